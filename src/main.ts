import 'reflect-metadata';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { LlmClient } from './gemini/llm-client.js';
import { ConfigValidationError, loadDotEnv, readSettings } from './config/environment.js';
import type { AppSettings } from './config/environment.js';

async function bootstrap(): Promise<void> {
  loadDotEnv();
  let settings: AppSettings;
  try {
    settings = readSettings();
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    // Silent while the module graph is built, so a start that fails prints only the one line
    // below; the real logger takes over as soon as the app exists.
    logger: false,
    abortOnError: false,
  });
  app.useLogger(new ConsoleLogger({ json: settings.logFormat === 'json' }));
  configureApp(app);
  app.enableShutdownHooks();
  await app.listen(settings.port, settings.host);
  const { port } = app.getHttpServer().address() as AddressInfo;
  const logger = new Logger('Bootstrap');
  if (app.get(LlmClient).mode === 'emulator') {
    logger.warn(
      'OFFLINE MODE: no GEMINI_API_KEY and no GEMINI_BASE_URL, so replies come from the bundled Gemini emulator, not from Google.',
    );
  }
  logger.log(`gemini-chat-api listening on http://${settings.host}:${port} (docs at /docs)`);
}

bootstrap().catch((error: unknown) => {
  // A bad PRICING_FILE surfaces while the module graph is built: still one line.
  const message = error instanceof ConfigValidationError ? error.message : `Start failed: ${String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
