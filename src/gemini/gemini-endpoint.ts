import { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/app.config.js';
import { GeminiEmulator } from './emulator/gemini-emulator.js';
import type { LlmMode } from './llm-client.js';

export const GEMINI_ENDPOINT = Symbol('GEMINI_ENDPOINT');

export interface GeminiEndpoint {
  mode: LlmMode;
  apiKey: string;
  baseUrl: string | null;
  /** Stops what the endpoint started (the embedded emulator), if anything. */
  close(): Promise<void>;
}

/** The emulator ignores the key's value but the SDK insists on having one. */
const EMULATOR_API_KEY = 'offline-emulator';

/**
 * Where Gemini is: configured (key and/or base URL), or, with neither, the bundled emulator
 * started in-process on a loopback port, which the service announces loudly.
 */
export async function resolveGeminiEndpoint(config: AppConfig): Promise<GeminiEndpoint> {
  const logger = new Logger('Gemini');
  if (!config.offline) {
    logger.log(`Gemini endpoint: ${config.gemini.baseUrl ?? 'Google (default)'}; model ${config.gemini.model}`);
    return {
      mode: 'configured',
      apiKey: config.gemini.apiKey ?? EMULATOR_API_KEY,
      baseUrl: config.gemini.baseUrl,
      close: async () => undefined,
    };
  }
  const emulator = new GeminiEmulator();
  const baseUrl = await emulator.start(0, '127.0.0.1');
  logger.warn(`offline mode: the bundled Gemini emulator answers at ${baseUrl}`);
  return { mode: 'emulator', apiKey: EMULATOR_API_KEY, baseUrl, close: () => emulator.stop() };
}
