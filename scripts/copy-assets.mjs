// tsc compiles only TypeScript: the page and the bundled price table travel to dist/ here.
import { cpSync } from 'node:fs';
const root = new URL('../', import.meta.url);
for (const path of ['web/public', 'models/gemini-models.json']) {
  cpSync(new URL(`src/${path}`, root), new URL(`dist/${path}`, root), { recursive: true });
}
