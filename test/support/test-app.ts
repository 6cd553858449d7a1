import type { LogLevel } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module.js';
import { APP_OPTIONS, configureApp, createHttpAdapter, listenAndMigrate } from '../../src/app.setup.js';
import { appConfig } from '../../src/config/app.config.js';
import { parseEnvironment } from '../../src/config/environment.js';
import type { AppSettings } from '../../src/config/environment.js';
import { GeminiEmulator } from '../../src/gemini/emulator/gemini-emulator.js';
import { apiDocument } from '../../src/openapi.js';
import { ContractCheck, recordContractCount } from './contract.js';
import { MemoryLogger } from './logs.js';
import { storedCostMismatches } from './stored-costs.js';
import { createTestDatabase } from './test-database.js';
import { rawSql } from './test-database.js';
import type { TestDatabase } from './test-database.js';

export interface TestApp {
  app: NestExpressApplication;
  /** http://127.0.0.1:<port> of the listening app. */
  baseUrl: string;
  /** The Gemini emulator this app talks to through the real SDK (null in offline mode). */
  emulator: GeminiEmulator;
  settings: AppSettings;
  dataSource: DataSource;
  /** Raw SQL on the app's database, written with `?` placeholders (PostgreSQL gets $1, $2…). */
  query<T = Record<string, any>>(sql: string, parameters?: unknown[]): Promise<T[]>;
  /** The database of this app: kept by `close({ keepData: true })` for another app to reuse. */
  database: TestDatabase;
  /**
   * What the app logged, `LEVEL [Context] message` a line (see MemoryLogger), kept instead of
   * printed. Nest has one logger per spec file: while two apps run, both log to the later one.
   */
  logs: string[];
  close(options?: { keepData?: boolean; keepEmulator?: boolean }): Promise<void>;
}

export interface TestAppOptions {
  /** Environment variables on top of the test defaults. */
  env?: Record<string, string | undefined>;
  /** Reuse an emulator (e.g. across a restart). */
  emulator?: GeminiEmulator;
  /** Reuse a database (e.g. to restart on it); a fresh one by default. */
  database?: TestDatabase;
  /** No emulator, no key, no base URL: the service starts its own emulator. */
  offline?: boolean;
  /** The levels kept in `logs`; errors and warnings by default. */
  logLevels?: LogLevel[];
}

/**
 * Boots the real AppModule on a fresh database (SQLite, or PostgreSQL in the e2e-pg project), talking to a Gemini emulator on a loopback
 * port through the real SDK, listening on a free port.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const emulator = options.offline ? null : (options.emulator ?? new GeminiEmulator({ recordRequests: true }));
  if (emulator && !isStarted(emulator)) await emulator.start(0, '127.0.0.1');
  const database = options.database ?? (await createTestDatabase());
  const settings = parseEnvironment({
    DATABASE_URL: database.url,
    GEMINI_TIMEOUT_MS: '3000',
    ...(emulator ? { GEMINI_BASE_URL: emulator.baseUrl, GEMINI_API_KEY: 'test-key' } : {}),
    ...options.env,
  });
  let app: NestExpressApplication;
  let contract: ContractCheck;
  // Kept, not printed: from the building of the module on (it may already log).
  const logger = new MemoryLogger(options.logLevels);
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(appConfig.KEY)
      .useValue(settings)
      .setLogger(logger)
      .compile();
    app = moduleRef.createNestApplication<NestExpressApplication>(createHttpAdapter(), { ...APP_OPTIONS, logger });
    // First of all middleware: it sees every answer as the client gets it.
    contract = new ContractCheck(apiDocument(app));
    app.use(contract.middleware);
    configureApp(app);
    await listenAndMigrate(app, 0, '127.0.0.1');
  } catch (error) {
    // A start that fails leaves nothing running: jest would wait for the emulator for ever.
    if (emulator && !options.emulator) await emulator.stop();
    if (!options.database) await database.drop();
    // What it logged on the way down is not printed anywhere else.
    if (error instanceof Error && logger.lines.length > 0) error.message += `\nthe app logged:\n${logger.lines.join('\n')}`;
    throw error;
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  const sql = rawSql(database, app.get<DataSource>(getDataSourceToken()));
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    emulator: emulator as GeminiEmulator,
    settings,
    dataSource: app.get<DataSource>(getDataSourceToken()),
    query: sql.query,
    database,
    logs: logger.lines,
    async close({ keepData = false, keepEmulator = false } = {}) {
      // Every turn any spec stored must reproduce its cost from its stored usage and the price table.
      const { mismatches } = await storedCostMismatches(app);
      await app.close();
      await sql.close();
      if (emulator && !keepEmulator) await emulator.stop();
      if (!keepData) await database.drop();
      if (mismatches.length > 0) throw new Error(`stored costs that their usage does not reproduce: ${JSON.stringify(mismatches)}`);
      // Every answer this app sent must be one the OpenAPI document describes (contract.ts).
      recordContractCount(contract);
      if (contract.violations.length > 0)
        throw new Error(`answers the OpenAPI document does not describe:\n${[...new Set(contract.violations)].join('\n')}`);
    },
  };
}

function isStarted(emulator: GeminiEmulator): boolean {
  try {
    return Boolean(emulator.baseUrl);
  } catch {
    return false;
  }
}

/**
 * Jest's timeout for starting or closing a test app: about 0.3 s on an idle machine, a few
 * seconds on a busy one or on PostgreSQL, and a close recomputes the cost of every turn stored
 * (thousands after the soak spec).
 */
export const APP_HOOK_TIMEOUT_MS = 30_000;

/**
 * One app for the describe block it is called in: started before its tests, closed after them,
 * with the emulator's script and records cleared before each test.
 */
export function useTestApp(options: TestAppOptions = {}): TestApp {
  let current: TestApp | undefined;
  beforeAll(async () => {
    current = await startTestApp(options);
  }, APP_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await current?.close();
  }, APP_HOOK_TIMEOUT_MS);
  beforeEach(() => current?.emulator?.reset());
  return new Proxy({} as TestApp, {
    get: (_target, property) => {
      if (!current) throw new Error('the test app is started in beforeAll');
      return current[property as keyof TestApp];
    },
  });
}
