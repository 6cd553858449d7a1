// `npm run lint:openapi`: the committed OpenAPI document (docs/openapi.json, kept equal to the
// live one by test/api/openapi.e2e-spec.ts) through the three validators clients use:
// swagger-parser, Redocly CLI's `recommended` ruleset and Spectral's `spectral:oas` (.spectral.yaml).
// Any error fails; warnings are printed (the known ones are explained in docs/api.md#the-openapi-document).
// Offline: no telemetry, no update check.
import SwaggerParser from '@apidevtools/swagger-parser';
import { spawnSync } from 'node:child_process';

const FILE = 'docs/openapi.json';
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };
let failed = false;

function report(tool, errors, warnings) {
  process.stdout.write(`${tool}: ${errors.length} errors, ${warnings.length} warnings\n`);
  for (const line of [...errors, ...warnings]) process.stdout.write(`  ${line}\n`);
  if (errors.length > 0) failed = true;
}

try {
  await SwaggerParser.validate(FILE);
  report('swagger-parser', [], []);
} catch (error) {
  report('swagger-parser', [String(error.message)], []);
}

function run(bin, args) {
  const result = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return result.stdout;
}

const redocly = JSON.parse(run('node_modules/@redocly/cli/bin/cli.js', ['lint', '--extends', 'recommended', '--format', 'json', FILE]));
const line = ({ ruleId, message, location }) => `${ruleId}: ${message} (${location?.[0]?.pointer ?? ''})`;
report(
  'redocly (recommended)',
  redocly.problems.filter((p) => p.severity === 'error').map(line),
  redocly.problems.filter((p) => p.severity === 'warn').map(line),
);

const spectral = JSON.parse(
  run('node_modules/@stoplight/spectral-cli/dist/index.js', ['lint', '-r', '.spectral.yaml', '-f', 'json', '-q', FILE]) || '[]',
);
const spectralLine = ({ code, message, path }) => `${code}: ${message} (${path.join('.')})`;
report(
  'spectral (spectral:oas)',
  spectral.filter((p) => p.severity === 0).map(spectralLine),
  spectral.filter((p) => p.severity === 1).map(spectralLine),
);
process.exit(failed ? 1 : 0);
