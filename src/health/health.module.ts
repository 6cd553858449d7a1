import { Module } from '@nestjs/common';
import { GeminiModule } from '../gemini/gemini.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [GeminiModule], controllers: [HealthController] })
export class HealthModule {}
