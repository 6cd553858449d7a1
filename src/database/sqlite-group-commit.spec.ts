import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { recordStatements } from '../../test/support/statements.js';
import { dataSourceOptions } from './data-source-options.js';
import { SqliteGroupCommit } from './sqlite-group-commit.js';

/** A database of two tables, a name and what refers to it: enough to commit, fail and break a commit. */
async function openDatabase(path = ':memory:'): Promise<DataSource> {
  const dataSource = new DataSource(dataSourceOptions({ kind: 'sqlite', path }));
  await dataSource.initialize();
  await dataSource.query('CREATE TABLE names (name TEXT PRIMARY KEY)');
  await dataSource.query('CREATE TABLE mentions (id INTEGER PRIMARY KEY, name TEXT NOT NULL REFERENCES names (name))');
  return dataSource;
}

const insert = (name: string) => async (manager: EntityManager) => {
  await manager.query('INSERT INTO names (name) VALUES (?)', [name]);
  return name;
};

const names = async (dataSource: DataSource) =>
  (await dataSource.query('SELECT name FROM names ORDER BY name')).map((row: { name: string }) => row.name);

describe(SqliteGroupCommit.name, () => {
  let dataSource: DataSource;
  let group: SqliteGroupCommit;

  beforeEach(async () => {
    dataSource = await openDatabase();
    group = new SqliteGroupCommit(dataSource);
  });

  afterEach(() => dataSource.destroy());

  it('commits units that queue up together with one COMMIT; one failing undoes only its own writes', async () => {
    const recorder = recordStatements(dataSource);
    const failing = async (manager: EntityManager) => {
      await insert('bob')(manager);
      throw new Error('bob failed after writing');
    };

    const outcomes = await Promise.allSettled([group.commit(insert('ann')), group.commit(failing), group.commit(insert('cid'))]);
    recorder.stop();

    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 'ann' },
      { status: 'rejected', reason: new Error('bob failed after writing') },
      { status: 'fulfilled', value: 'cid' },
    ]);
    expect(await names(dataSource)).toEqual(['ann', 'cid']);
    expect(recorder.ran.filter(({ sql }) => /^(BEGIN|COMMIT)/.test(sql)).map(({ sql }) => sql.split(' ')[0])).toEqual(['BEGIN', 'COMMIT']);
  });

  it('answers none of the group as stored when the commit fails', async () => {
    // A deferred foreign key fails at COMMIT, after every unit of the group succeeded.
    await dataSource.query('PRAGMA defer_foreign_keys = ON');
    const breaking = (manager: EntityManager) => manager.query("INSERT INTO mentions (name) VALUES ('nobody')");

    const outcomes = await Promise.allSettled([group.commit(insert('ann')), group.commit(breaking), group.commit(insert('cid'))]);

    expect(outcomes.map(({ status }) => status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await names(dataSource)).toEqual([]);
  });

  it('runs a unit alone as a plain transaction', async () => {
    const recorder = recordStatements(dataSource);
    await group.commit(insert('ann'));
    recorder.stop();

    expect(recorder.ran.map(({ sql }) => sql.split(' ')[0])).toEqual(['BEGIN', 'INSERT', 'COMMIT']);
  });

  it('commits a unit that is not durable without an fsync, a group with a durable unit with one, and puts the setting back', async () => {
    await dataSource.query('PRAGMA synchronous = FULL');
    const synchronous = async (manager: EntityManager) => Number((await manager.query('PRAGMA synchronous'))[0].synchronous);

    const alone = await group.commit(synchronous, false);
    const [mixedLoose, mixedDurable] = await Promise.all([group.commit(synchronous, false), group.commit(synchronous)]);

    // 1 = NORMAL (in WAL mode: written at commit, synced later), 2 = FULL.
    expect([alone, mixedLoose, mixedDurable]).toEqual([1, 2, 2]);
    expect(await synchronous(dataSource.manager)).toBe(2);
    await group.commit(insert('after'), false);
    expect(await names(dataSource)).toEqual(['after']);
  });

  it('stays in step with SQLite after SQLite rolled a whole transaction back itself (disk full, I/O error)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'group-commit-'));
    const file = await openDatabase(join(directory, 'chat.db'));
    try {
      // RAISE(ROLLBACK) ends the whole transaction, as SQLITE_FULL or SQLITE_IOERR do.
      await file.query(
        "CREATE TRIGGER roll_back BEFORE INSERT ON names WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ROLLBACK, 'rolled back'); END",
      );
      const fileGroup = new SqliteGroupCommit(file);
      const insertInto = (name: string) => fileGroup.commit(insert(name));

      await expect(insertInto('boom')).rejects.toThrow('rolled back');
      // In a group, it ends the group's transaction: none of it is stored, all fail with that error.
      const outcomes = await Promise.allSettled([insertInto('eve'), insertInto('boom'), insertInto('fay')]);
      expect(outcomes.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : outcome.status))).toEqual([
        expect.stringContaining('rolled back'),
        expect.stringContaining('rolled back'),
        expect.stringContaining('rolled back'),
      ]);
      // Then an ordinary failure, undone by the database's ROLLBACK as usual.
      const failing = fileGroup.commit(async (manager) => {
        await insert('dan')(manager);
        throw new Error('refused after writing');
      });
      await expect(failing).rejects.toThrow('refused after writing');
      await insertInto('ann');
      await Promise.all([insertInto('bob'), insertInto('cid')]);

      // They outlive the connection (closing rolls back a transaction still open), and another
      // connection sees them: they were committed. The file is this connection's alone while open.
      await file.destroy();
      const reader = new Database(join(directory, 'chat.db'), { readonly: true });
      try {
        expect(reader.prepare('SELECT name FROM names ORDER BY name').pluck().all()).toEqual(['ann', 'bob', 'cid']);
      } finally {
        reader.close();
      }
    } finally {
      if (file.isInitialized) await file.destroy();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
