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

/** For an endpoint that needs no key (the emulator, a proxy): the SDK insists on having one. */
const PLACEHOLDER_API_KEY = 'offline-emulator';

/**
 * Where Gemini is: configured (key and/or base URL), or, with neither, the bundled emulator
 * started in-process on a loopback port (main.ts announces which, once the logger is up).
 */
export async function resolveGeminiEndpoint(config: AppConfig): Promise<GeminiEndpoint> {
  if (!config.offline) {
    return {
      mode: 'configured',
      apiKey: config.gemini.apiKey ?? PLACEHOLDER_API_KEY,
      baseUrl: config.gemini.baseUrl,
      close: async () => undefined,
    };
  }
  const emulator = new GeminiEmulator();
  const baseUrl = await emulator.start(0, '127.0.0.1');
  return { mode: 'emulator', apiKey: PLACEHOLDER_API_KEY, baseUrl, close: () => emulator.stop() };
}
