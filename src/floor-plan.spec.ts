import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The floor plan of src/ (docs/architecture.md), checked from the source: what each folder may
 * import, and where the database may be touched. A change that breaks it fails here, with the
 * offending imports named.
 */
const SRC = dirname(fileURLToPath(import.meta.url));

interface SourceFile {
  /** Path under src/, e.g. `turns/turn.service.ts`. */
  path: string;
  /** Its folder under src/ (`turns`), or the file itself for the top-level files (`app.module.ts`). */
  room: string;
  text: string;
  /** The src/ paths of what it imports from src/. */
  imports: string[];
}

function sourceFiles(dir = SRC): SourceFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry): SourceFile[] => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'web' ? [] : sourceFiles(full);
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.spec.ts')) return [];
    const path = relative(SRC, full);
    const text = readFileSync(full, 'utf8');
    const imports = [...text.matchAll(/(?:from|import)\s+'(\.{1,2}\/[^']+)'/g)].map(([, spec]) =>
      relative(SRC, resolve(dirname(full), spec)),
    );
    return [{ path, room: path.split('/')[0], text, imports }];
  });
}

const files = sourceFiles();
const roomOf = (path: string) => path.split('/')[0];
const importsOf = (room: string) =>
  files.filter((file) => file.room === room).flatMap((file) => file.imports.map((target) => `${file.path} -> ${target}`));
const outside = (room: string, allowed: string[]) => importsOf(room).filter((edge) => !allowed.includes(roomOf(edge.split(' -> ')[1])));

describe('The floor plan of src/', () => {
  it('has a ground floor: core/ imports nothing from src/ but itself', () => {
    expect(outside('core', ['core'])).toEqual([]);
  });

  it('has infrastructure that knows no feature: database/ imports only configuration and core', () => {
    expect(outside('database', ['database', 'config', 'core'])).toEqual([]);
  });

  it('keeps the database in repositories, entities and database/: no TypeORM or SQL anywhere else', () => {
    const touching = files.filter(
      ({ path, text }) =>
        /from '(typeorm|@nestjs\/typeorm)'|\bDataSource\b|\.query\(/.test(text) &&
        !/\.(repository|entity)\.ts$/.test(path) &&
        roomOf(path) !== 'database',
    );
    expect(touching.map(({ path }) => path)).toEqual([]);
  });

  it('has the list of entities and repositories at the top, imported by the app module alone', () => {
    const importers = files.filter(({ imports }) => imports.includes('persistence.js')).map(({ path }) => path);
    expect(importers).toEqual(['app.module.ts']);
  });

  it('has floors: no folder imports, directly or through others, a folder that imports it', () => {
    const rooms = new Map<string, Set<string>>();
    for (const file of files) {
      if (file.path.split('/').length === 1) continue; // the top-level files stand above every floor
      for (const target of file.imports)
        if (roomOf(target) !== file.room) (rooms.get(file.room) ?? rooms.set(file.room, new Set()).get(file.room)!).add(roomOf(target));
    }
    const reachable = (from: string, seen = new Set<string>()): Set<string> => {
      for (const next of rooms.get(from) ?? []) if (!seen.has(next)) reachable(next, seen.add(next));
      return seen;
    };
    // An import from a folder that the imported one reaches back to: a floor that stands on itself.
    const cycles = [...rooms].flatMap(([room, targets]) =>
      [...targets].filter((target) => reachable(target).has(room)).map((target) => `${room} -> ${target}`),
    );
    expect(cycles).toEqual([]);
  });
});
