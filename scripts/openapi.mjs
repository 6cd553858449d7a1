// `npm run openapi`: writes the OpenAPI document the built app serves at /docs-json to
// docs/openapi.json (committed, so a contract change shows in review; test/api/openapi.e2e-spec.ts
// keeps the two equal), and the client types openapi-typescript makes of it to
// test/support/openapi-types.ts (the generated-client spec uses them; type-checked with the tests).
// `--check` compares instead of writing. Run after `npm run build`.
import { readFileSync, writeFileSync } from 'node:fs';

const FILE = 'docs/openapi.json';
const TYPES = 'test/support/openapi-types.ts';
// The document must not depend on who runs this: no .env, no keys, a throw-away database.
for (const name of Object.keys(process.env)) if (!['PATH', 'HOME', 'TMPDIR', 'NODE_OPTIONS'].includes(name)) delete process.env[name];
process.env.DATABASE_URL = 'sqlite::memory:';

const { NestFactory } = await import('@nestjs/core');
const { AppModule } = await import('../dist/app.module.js');
const { APP_OPTIONS, createHttpAdapter } = await import('../dist/app.setup.js');
const { apiDocument, documentText } = await import('../dist/openapi.js');
const { clientTypes } = await import('./openapi-types.mjs');

const app = await NestFactory.create(AppModule, createHttpAdapter(), { ...APP_OPTIONS, logger: false });
const document = apiDocument(app);
await app.close();
const files = { [FILE]: documentText(document), [TYPES]: await clientTypes(document) };
for (const [file, text] of Object.entries(files)) {
  if (process.argv.includes('--check')) {
    if (readFileSync(file, 'utf8') !== text) {
      process.stderr.write(`${file} is not what the app's document makes: run \`npm run openapi\` and commit it.\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(file, text);
    process.stdout.write(`wrote ${file}\n`);
  }
}
process.exit(0);
