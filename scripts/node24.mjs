// npm run test:node24: the unit, e2e and e2e-pg suites on Node 24, run from any Node (CI runs it
// on Node 20, after npm test). The checkout is never touched, so npm start on its own Node works
// afterwards:
//   1. Node 24 from the npm registry (the node-<platform>-<arch> package: bin/node and
//      include/node, its headers) into a cache folder outside the tree (NODE24_CACHE, default
//      ~/.cache/gemini-chat-api/node24), refreshed to the newest 24 on every run;
//   2. a copy of the checkout in a temporary folder: the files copied, node_modules hard-linked
//      but for the native modules (better-sqlite3), which are copied and rebuilt against Node 24's
//      headers (--nodedir: npm's own nodedir setting may point at the system Node's), or taken from
//      the cache when this Node and this module version were built before;
//   3. there, with Node 24 first on PATH: npm run build, then node scripts/jest.mjs for each
//      project (e2e-pg starts its own throw-away PostgreSQL). Jest's workers and the servers the
//      specs spawn run process.execPath: Node 24 too.
// Prints the Node version and how long each part took; exits 1 when any part failed. The copy is
// removed afterwards.
//   node scripts/node24.mjs [project…]       projects: unit e2e e2e-pg (default), browser
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAJOR = '24';
const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CACHE = process.env.NODE24_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gemini-chat-api', 'node24');
/** Left out of the copy: what the run makes itself, or must not share (the repository, local databases). */
const NOT_COPIED = new Set(['node_modules', 'dist', '.git', 'data', 'coverage']);
const projects = process.argv.length > 2 ? process.argv.slice(2) : ['unit', 'e2e', 'e2e-pg'];

const started = Date.now();
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(0)} s`;

function fail(message) {
  console.error(`node24: ${message}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) fail(`${command} ${args.join(' ')}: ${result.error.message}`);
  return result.status ?? 1;
}

// 1. Node 24.
const pkg = `node-${process.platform}-${process.arch}`;
mkdirSync(CACHE, { recursive: true });
if (run('npm', ['install', '--prefix', CACHE, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `${pkg}@${MAJOR}`]) !== 0) {
  fail(`could not install ${pkg}@${MAJOR} from the npm registry`);
}
const nodeDir = join(CACHE, 'node_modules', pkg);
const node = join(nodeDir, 'bin', 'node');
const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
if (!version.startsWith(`v${MAJOR}.`)) fail(`${node} is "${version}", not Node ${MAJOR}`);
console.log(`node24: ${version} (${node})`);

// 2. The copy.
const work = mkdtempSync(join(tmpdir(), 'gemini-chat-api-node24-'));
// Removed however the run ends (fail() and the signals exit the process; 'exit' still runs).
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

/** Hard links of every file under `from` (a copy when linking is refused, e.g. across file systems). */
function linkTree(from, to) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else if (entry.isDirectory()) linkTree(source, target);
    else {
      try {
        linkSync(source, target);
      } catch {
        copyFileSync(source, target);
      }
    }
  }
}

/** Packages of node_modules (name, folder) built by node-gyp: they hold a binding.gyp. */
function nativePackages(modules) {
  const found = [];
  for (const name of readdirSync(modules)) {
    const names = name.startsWith('@') ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`) : [name];
    for (const full of names) if (existsSync(join(modules, full, 'binding.gyp'))) found.push(full);
  }
  return found;
}

let status = 0;
/** What each part took, printed at the end. */
const parts = [];
const modules = join(ROOT, 'node_modules');
if (!existsSync(modules)) fail('node_modules is missing: run "npm ci" first');
for (const entry of readdirSync(ROOT)) {
  if (!NOT_COPIED.has(entry)) cpSync(join(ROOT, entry), join(work, entry), { recursive: true, verbatimSymlinks: true });
}
const natives = nativePackages(modules);
linkTree(modules, join(work, 'node_modules'));

// Native modules: real copies (a rebuild must not write through the links into the checkout),
// built for this Node, or restored from an earlier build of the same module and Node version.
const env = { ...process.env, PATH: `${join(nodeDir, 'bin')}${delimiter}${process.env.PATH ?? ''}` };
for (const name of natives) {
  const since = Date.now();
  const target = join(work, 'node_modules', name);
  const moduleVersion = JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')).version;
  const cached = join(CACHE, 'native', `${name.replace('/', '+')}@${moduleVersion}-node-${version}-${process.platform}-${process.arch}`);
  rmSync(target, { recursive: true, force: true });
  if (existsSync(cached)) {
    cpSync(cached, target, { recursive: true, verbatimSymlinks: true });
    parts.push(`${name} from the cache ${seconds(since)}`);
    continue;
  }
  cpSync(join(modules, name), target, { recursive: true, verbatimSymlinks: true });
  // npm shows the compiler's output only when the build fails.
  if (run('npm', ['rebuild', name, `--nodedir=${nodeDir}`], { cwd: work, env }) !== 0) fail(`rebuilding ${name} for ${version} failed`);
  const partial = `${cached}.${process.pid}`;
  cpSync(target, partial, { recursive: true, verbatimSymlinks: true });
  try {
    renameSync(partial, cached);
  } catch {
    rmSync(partial, { recursive: true, force: true }); // another run cached it first
  }
  parts.push(`${name} built ${seconds(since)}`);
}
// The service's database driver opens a database in Node 24, from the copy.
const probe =
  "const D = require('better-sqlite3'); new D(':memory:').prepare('select 1').get(); console.log('node24: loads', require.resolve('better-sqlite3'))";
if (run(node, ['-e', probe], { cwd: work, env }) !== 0) fail('better-sqlite3 does not load in Node 24');

// 3. Build and the suites.
const since = Date.now();
if (run('npm', ['run', '--silent', 'build'], { cwd: work, env }) !== 0) fail('npm run build failed on Node 24');
parts.push(`build ${seconds(since)}`);
for (const project of projects) {
  const since = Date.now();
  const code = run(node, ['scripts/jest.mjs', project], { cwd: work, env });
  parts.push(`${project} ${code === 0 ? 'passed' : 'FAILED'} ${seconds(since)}`);
  if (code !== 0) status = 1;
}
console.log(`node24: ${version}: ${parts.join(', ')}; ${seconds(started)} in all`);
process.exit(status);
