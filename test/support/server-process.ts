import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MAIN_JS = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/**
 * Jest's timeout for a test that starts the built server. A start takes about 0.5 s on an idle
 * machine and 2–3 s with both cores of a 2-core machine busy, and a test starts one or two and
 * sends turns: a test of one start and a few requests took 4.6 s of jest's default 5 s so.
 */
export const SERVER_TEST_TIMEOUT_MS = 30_000;

export interface ServerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the base URL once the server logs that it listens. */
  ready: Promise<string>;
  /** The exit code, or the name of the signal that ended the process. */
  exited: Promise<number | NodeJS.Signals | null>;
}

/** Runs the built server (`npm test` builds it first) as a child process. */
export function runServer(env: Record<string, string>): ServerProcess {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run "npm run build" (npm test does it)`);
  const child = spawn(process.execPath, [MAIN_JS], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return { child, output: () => output, ready, exited };
}
