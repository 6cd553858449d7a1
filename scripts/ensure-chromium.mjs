// Makes sure a Chromium exists for the browser tests (npm run test:browser).
// Found (CHROMIUM_PATH or /usr/bin/chromium): exit 0. Root on Debian with apt-get: install it,
// with its dependencies only: Debian's chromium recommends 90 more packages (avahi, samba
// clients, printing, udev; 115 packages, 479 MB, and upgrades of unrelated ones such as systemd),
// none of which headless Chromium uses; without them, 25 packages and 414 MB on Debian 12, no
// upgrades. apt may still upgrade a dependency chromium needs at a newer version; it removes
// nothing (--no-remove: it stops instead). Otherwise: one line saying what to do, exit 1.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const DEFAULT_PATH = '/usr/bin/chromium';
const HINT =
  'Chromium is needed for the browser tests: run "sudo apt-get install -y --no-install-recommends chromium" (Debian) or set CHROMIUM_PATH.';

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

const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env });
const update = run(['update']);
if (update.status !== 0) process.exit(update.status ?? 1);
const install = run(['install', '-y', '--no-install-recommends', '--no-remove', 'chromium']);
process.exit(install.status ?? 1);
