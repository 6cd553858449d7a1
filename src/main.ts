import 'reflect-metadata';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module.js';
import { APP_OPTIONS, configureApp, createHttpAdapter, listenAndMigrate } from './app.setup.js';
import { ModelNotices } from './health/model-notices.js';
import { Readiness } from './health/readiness.js';
import { describeNotice } from './models/model-catalog.js';
import { TurnService } from './turns/turn.service.js';
import { LlmClient } from './gemini/llm-client.js';
import { ConfigValidationError, loadDotEnv, readSettings } from './config/environment.js';
import { SqliteFileInUse } from './database/errors.js';
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
  const app = await NestFactory.create<NestExpressApplication>(AppModule, createHttpAdapter(), {
    ...APP_OPTIONS,
    // Silent while the module graph is built, so a start that fails prints only the one line
    // below; the real logger takes over as soon as the app exists.
    logger: false,
    abortOnError: false,
  });
  // Colour codes only for a person at a terminal: a pipe or a file gets plain lines.
  const colors = settings.logFormat === 'text' && process.stdout.isTTY === true && !process.env.NO_COLOR;
  app.useLogger(new ConsoleLogger({ json: settings.logFormat === 'json', colors }));
  configureApp(app);
  stopGracefully(app);
  const logger = new Logger('Bootstrap');
  await listenAndMigrate(app, settings.port, settings.host);
  const { port } = app.getHttpServer().address() as AddressInfo;
  if (app.get(LlmClient).mode === 'emulator') {
    logger.warn(
      'OFFLINE MODE: no GEMINI_API_KEY and no GEMINI_BASE_URL, so replies come from the bundled Gemini emulator, not from Google.',
    );
  } else {
    logger.log(`Gemini: ${settings.gemini.baseUrl ?? 'Google (default endpoint)'}; new sessions use ${settings.gemini.model}`);
  }
  if (settings.adminApiKey === null) {
    logger.warn('OPEN MODE: ADMIN_API_KEY is not set, so no API key is asked for and anyone can read and write any chat.');
  }
  for (const notice of await app.get(ModelNotices).current()) {
    const where = notice.usedBy === 'GEMINI_MODEL' ? 'GEMINI_MODEL' : 'some sessions';
    logger.warn(
      `MODEL NOTICE: ${describeNotice(notice)}; ${where} use${where === 'GEMINI_MODEL' ? 's' : ''} it (it is not refused: a proxy may still serve it).`,
    );
  }
  logger.log(`gemini-chat-api listening on http://${settings.host}:${port} (docs at /docs)`);
}

const DRAIN_MS = 10_000;

/**
 * SIGTERM / SIGINT: stop accepting connections, let the turns in flight finish and be stored
 * (up to 10 s), then close the app and its database. Nest's own shutdown hooks would close the
 * database first, under the feet of those turns.
 */
function stopGracefully(app: NestExpressApplication): void {
  const logger = new Logger('Shutdown');
  const stop = async (signal: NodeJS.Signals) => {
    logger.log(`${signal}: no new connections; finishing the turns in flight (up to ${DRAIN_MS / 1000} s)`);
    app.get(Readiness).drain();
    const server = app.getHttpServer();
    server.close();
    server.closeIdleConnections();
    const drained = await app.get(TurnService).drain(DRAIN_MS);
    if (!drained) logger.warn('turns still running after the grace period are abandoned; nothing of them is stored');
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

bootstrap().catch((error: unknown) => {
  // A bad PRICING_FILE, or a SQLite file another process holds, surfaces while the module graph
  // is built: still one line, that says what to do.
  const message =
    error instanceof ConfigValidationError || error instanceof SqliteFileInUse ? error.message : `Start failed: ${String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
