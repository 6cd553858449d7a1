import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { GeminiModule } from '../gemini/gemini.module.js';
import { HealthController } from './health.controller.js';
import { Readiness } from './readiness.js';

@Module({ imports: [GeminiModule, AuthModule], controllers: [HealthController], providers: [Readiness], exports: [Readiness] })
export class HealthModule {}
