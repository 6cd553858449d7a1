import { Logger } from '@nestjs/common';
import { GeminiEmulator } from './gemini-emulator.js';

// Standalone Gemini emulator: `node dist/gemini/emulator/cli.js` (PORT, HOST).
const logger = new Logger('GeminiEmulator');
const port = Number(process.env.PORT ?? 8787);
const host = process.env.HOST ?? '127.0.0.1';

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  logger.error(`PORT must be an integer between 0 and 65535, got "${process.env.PORT}"`);
  process.exit(1);
}

const emulator = new GeminiEmulator();
let baseUrl: string;
try {
  baseUrl = await emulator.start(port, host);
} catch (error) {
  logger.error(`Cannot listen on ${host}:${port}: ${(error as Error).message}`);
  process.exit(1);
}
logger.log(`Gemini emulator listening on ${baseUrl} (use it as the Gemini base URL, any non-empty API key)`);

let stopping = false;
const shutdown = (signal: string): void => {
  // A second Ctrl-C means "now", even if some client keeps a stream open.
  if (stopping) process.exit(1);
  stopping = true;
  logger.log(`${signal} received, stopping`);
  emulator.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
