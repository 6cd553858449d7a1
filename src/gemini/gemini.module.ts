import { Inject, Module } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { GeminiClient } from './gemini.client.js';
import { GEMINI_ENDPOINT, resolveGeminiEndpoint } from './gemini-endpoint.js';
import type { GeminiEndpoint } from './gemini-endpoint.js';
import { LlmClient } from './llm-client.js';

@Module({
  imports: [MetricsModule],
  providers: [
    { provide: GEMINI_ENDPOINT, inject: [appConfig.KEY], useFactory: (config: AppConfig) => resolveGeminiEndpoint(config) },
    { provide: LlmClient, useClass: GeminiClient },
  ],
  exports: [LlmClient],
})
export class GeminiModule implements OnApplicationShutdown {
  constructor(@Inject(GEMINI_ENDPOINT) private readonly endpoint: GeminiEndpoint) {}

  async onApplicationShutdown(): Promise<void> {
    await this.endpoint.close();
  }
}
