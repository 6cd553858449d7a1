import { createServer } from 'node:net';
import type { GeminiEmulator } from '../../src/gemini/emulator/gemini-emulator.js';
import { runServer } from './server-process.js';
import type { ServerProcess } from './server-process.js';
import { createPostgresDatabase, rawSql } from './test-database.js';
import type { RawSql, TestDatabase } from './test-database.js';

/** Lease and reservation lifetime of cluster specs: a dead instance blocks this long at most. */
export const LEASE_TTL_MS = 1_500;

export interface Instance {
  server: ServerProcess;
  port: number;
  url: string;
}

/** Built instances (dist/main.js) on one fresh PostgreSQL database, each its own process. */
export interface Cluster {
  instances: Instance[];
  database: TestDatabase;
  /** SQL on that database (`?` placeholders), as the specs check it. */
  sql: RawSql;
  /** Starts one more instance on the same database; resolves once it serves. */
  add(): Promise<Instance>;
  /** Starts one more instance on the same database; resolves at once. */
  launch(): Promise<Instance>;
  /** Stops every instance still running (SIGTERM), then drops the database. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  size?: number;
  emulator: GeminiEmulator;
  env?: Record<string, string>;
}

export async function startCluster({ size = 3, emulator, env = {} }: ClusterOptions): Promise<Cluster> {
  const database = await createPostgresDatabase(process.env.TEST_POSTGRES_URL!);
  const environment = {
    DATABASE_URL: database.url,
    GEMINI_BASE_URL: emulator.baseUrl,
    GEMINI_API_KEY: 'cluster-test-key',
    GEMINI_TIMEOUT_MS: '5000',
    LEASE_TTL_MS: String(LEASE_TTL_MS),
    DATABASE_POOL_SIZE: '5',
    ...env,
  };
  const instances: Instance[] = [];
  const launchOne = async () => {
    const instance = await launch(environment);
    instances.push(instance);
    return instance;
  };
  const add = async () => {
    const instance = await launchOne();
    await instance.server.ready;
    return instance;
  };
  // All at once, on an empty database: they must agree on who migrates it.
  await Promise.all(Array.from({ length: size }, add));
  const sql = rawSql(database);
  return {
    instances,
    database,
    sql,
    add,
    launch: launchOne,
    async stop() {
      await Promise.all(instances.map((instance) => stopInstance(instance, 'SIGTERM')));
      await sql.close();
      await database.drop();
    },
  };
}

/** Starts an instance on a port chosen here, so it can be asked before it says it serves. */
export async function launch(env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const server = runServer({ ...env, PORT: String(port) });
  return { server, port, url: `http://127.0.0.1:${port}` };
}

/** Sends the signal unless the process has ended; resolves with how it ended. */
export async function stopInstance(instance: Instance, signal: NodeJS.Signals): Promise<number | NodeJS.Signals | null> {
  if (instance.server.child.exitCode === null && instance.server.child.signalCode === null) instance.server.child.kill(signal);
  return instance.server.exited;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
