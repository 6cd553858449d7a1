// `npm test`: the whole suite. Type-checks everything (jest only transpiles), builds (the boot
// specs run dist/main.js as users do), runs the OpenAPI document through swagger-parser, Redocly
// and Spectral (docs/openapi.json: an e2e spec keeps it equal to the live one), makes sure Chromium
// is there for the browser specs, then runs every jest project.
import { spawnSync } from 'node:child_process';

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

run('npm', ['run', '--silent', 'typecheck']);
run('npm', ['run', '--silent', 'build']);
run('npm', ['run', '--silent', 'lint:openapi']);
run(process.execPath, ['scripts/ensure-chromium.mjs']);
run(process.execPath, ['scripts/jest.mjs', 'all', ...process.argv.slice(2)]);
