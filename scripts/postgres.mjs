// A throw-away PostgreSQL server for the test suite: Debian's `postgresql` package (installed
// when missing and we are root, as for Chromium: its dependencies only, no recommends, nothing
// removed; 11 packages, 86 MB on Debian 12, with libpq5 upgraded when the server needs a newer
// one), a cluster made by initdb in a temporary folder,
// listening on a free loopback port, stopped and removed afterwards. initdb refuses to run as
// root, so as root the server runs as the `postgres` user the package creates.
//
//   import { startPostgres } from './postgres.mjs';
//   const server = await startPostgres();   // { url, stop() }: url is a superuser URL
//
// PG_BIN (a folder holding initdb, pg_ctl) points at another installation.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HINT =
  'PostgreSQL is needed for the e2e suites on PostgreSQL: run "sudo apt-get install -y --no-install-recommends postgresql" (Debian) or set PG_BIN to the folder holding initdb and pg_ctl.';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function binFolder() {
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, 'initdb')) ? process.env.PG_BIN : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : null;
}

/** The folder of initdb and pg_ctl, installing Debian's package when missing and root; else exits with a hint. */
export function ensurePostgres() {
  const found = binFolder();
  if (found) return found;
  const canInstall =
    isRoot && existsSync('/etc/debian_version') && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!canInstall) {
    console.error(HINT);
    process.exit(1);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', '--no-remove', 'postgresql']]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
  const installed = binFolder();
  if (!installed) {
    console.error(HINT);
    process.exit(1);
  }
  return installed;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL program, as the `postgres` user when we are root. */
function run(bin, program, args) {
  const command = join(bin, program);
  const result = isRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8' })
    : spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${program} failed (${result.status}): ${result.stderr || result.stdout || result.error}`);
  }
}

/**
 * Starts a fresh server; `url` connects as its superuser `chat` (trust auth, loopback only).
 * `durable`: fsync and full page writes on, as in production (the bench); off for tests.
 */
export async function startPostgres({ durable = false } = {}) {
  const bin = ensurePostgres();
  const dir = mkdtempSync(join(tmpdir(), 'gemini-chat-api-pg-'));
  if (isRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  run(bin, 'initdb', ['-D', data, '-U', 'chat', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c max_connections=300',
    // Durability is not what a throw-away test server is for.
    ...(durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ].join(' ');
  run(bin, 'pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  let stopped = false;
  return {
    url: `postgres://chat@127.0.0.1:${port}/postgres`,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function postgresUser() {
  const id = (flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}
