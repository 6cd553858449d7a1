// Makes sure a Chromium exists for the browser tests (npm run test:browser).
// Found (CHROMIUM_PATH or /usr/bin/chromium): exit 0. Root on Debian with apt-get: install it.
// Otherwise: one line saying what to do, exit 1.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const DEFAULT_PATH = '/usr/bin/chromium';
const HINT = 'Chromium is needed for the browser tests: run "sudo apt-get install -y chromium" (Debian) or set CHROMIUM_PATH.';

const isFile = (path) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

const fromEnv = process.env.CHROMIUM_PATH;
if ((fromEnv && isFile(fromEnv)) || isFile(DEFAULT_PATH)) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const isDebian = existsSync('/etc/debian_version');
const hasAptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;

if (!(isRoot && isDebian && hasAptGet)) {
  console.error(HINT);
  process.exit(1);
}

const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit' });
const update = run(['update']);
if (update.status !== 0) process.exit(update.status ?? 1);
const install = run(['install', '-y', 'chromium']);
process.exit(install.status ?? 1);
