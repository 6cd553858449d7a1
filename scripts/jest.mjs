// Runs jest in its ESM mode (Nest 12 and @google/genai ship ESM only) for one project or all:
//   node scripts/jest.mjs unit|e2e|e2e-pg|browser|all [jest arguments…]
// The project goes last: jest reads --selectProjects as a list and would swallow a path after it.
// The e2e-pg project (part of all) gets a throw-away PostgreSQL server for the run, unless
// TEST_POSTGRES_URL names one.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from './postgres.mjs';

const [project, ...args] = process.argv.slice(2);
const select = project === 'all' ? [] : ['--selectProjects', project];
const env = { ...process.env };
let postgres = null;
if ((project === 'all' || project === 'e2e-pg') && !env.TEST_POSTGRES_URL) {
  postgres = await startPostgres();
  env.TEST_POSTGRES_URL = postgres.url;
}
// Each test app adds how many answers it checked against the OpenAPI document (test/support/contract.ts).
const counts = mkdtempSync(join(tmpdir(), 'contract-'));
env.CONTRACT_COUNT_FILE = join(counts, 'answers');
// The ESM mode's one warning ("VM Modules is an experimental feature") says nothing new on every run.
const node = ['--experimental-vm-modules', '--disable-warning=ExperimentalWarning'];
const jest = spawn(process.execPath, [...node, 'node_modules/jest/bin/jest.js', ...args, ...select], {
  stdio: 'inherit',
  env,
});
// Ctrl-C reaches jest through the terminal; the server is stopped once jest has ended.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => jest.kill(signal));
jest.on('exit', (code, signal) => {
  postgres?.stop();
  let answers = 0;
  try {
    answers = readFileSync(env.CONTRACT_COUNT_FILE, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .reduce((a, b) => a + b, 0);
  } catch {
    // no test app ran
  }
  rmSync(counts, { recursive: true, force: true });
  if (answers > 0) process.stdout.write(`${answers} answers checked against the OpenAPI document\n`);
  process.exit(code ?? (signal ? 1 : 0));
});
