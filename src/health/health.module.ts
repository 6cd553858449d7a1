import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { GeminiModule } from '../gemini/gemini.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [GeminiModule, AuthModule], controllers: [HealthController] })
export class HealthModule {}
