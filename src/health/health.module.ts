import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { GeminiModule } from '../gemini/gemini.module.js';
import { ModelsModule } from '../models/models.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { HealthController } from './health.controller.js';
import { ModelNotices } from './model-notices.js';
import { Readiness } from './readiness.js';

@Module({
  imports: [GeminiModule, AuthModule, ModelsModule, SessionsModule],
  controllers: [HealthController],
  providers: [Readiness, ModelNotices],
  exports: [Readiness, ModelNotices],
})
export class HealthModule {}
