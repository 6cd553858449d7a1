// Runs jest in its ESM mode (Nest 12 and @google/genai ship ESM only) for one project or all:
//   node scripts/jest.mjs unit|e2e|browser|all [jest arguments…]
// The project goes last: jest reads --selectProjects as a list and would swallow a path after it.
import { spawnSync } from 'node:child_process';

const [project, ...args] = process.argv.slice(2);
const select = project === 'all' ? [] : ['--selectProjects', project];
const result = spawnSync(process.execPath, ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', ...args, ...select], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
