import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createWorld } from '../../test/support/unit-world.js';
import type { World } from '../../test/support/unit-world.js';
import { recordStatements } from '../../test/support/statements.js';
import { dataSourceOptions } from './data-source-options.js';
import { migrate } from './migrate.js';
import { UnitOfWork } from './unit-of-work.js';

const CREATED_AT = '2026-11-23T10:00:00.000Z';

describe('UnitOfWork on SQLite', () => {
  let world: World;

  beforeEach(async () => {
    world = await createWorld();
  });

  afterEach(() => world.close());

  const userIds = async () => (await world.dataSource.query('SELECT user_id FROM users ORDER BY user_id')).map((row: { user_id: string }) => row.user_id);

  it('commits units that queue up together with one COMMIT; one failing undoes only its own writes', async () => {
    const recorder = recordStatements(world.dataSource);
    const committed: string[] = [];
    const unit = (userId: string, fail = false) =>
      world.unitOfWork.run(async (repositories) => {
        await repositories.users.ensureExists(userId, CREATED_AT);
        repositories.afterCommit(() => committed.push(userId));
        if (fail) throw new Error(`${userId} failed after writing`);
        return userId;
      });

    const outcomes = await Promise.allSettled([unit('ann'), unit('bob', true), unit('cid')]);
    recorder.stop();

    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 'ann' },
      { status: 'rejected', reason: new Error('bob failed after writing') },
      { status: 'fulfilled', value: 'cid' },
    ]);
    expect(await userIds()).toEqual(['ann', 'cid']);
    expect(committed).toEqual(['ann', 'cid']);
    expect(recorder.ran.filter(({ sql }) => /^(BEGIN|COMMIT)/.test(sql)).map(({ sql }) => sql.split(' ')[0])).toEqual(['BEGIN', 'COMMIT']);
  });

  it('answers none of the group as stored when the commit fails, and runs none of their after-commit work', async () => {
    const committed: string[] = [];
    const unit = (userId: string) =>
      world.unitOfWork.run(async (repositories) => {
        await repositories.users.ensureExists(userId, CREATED_AT);
        repositories.afterCommit(() => committed.push(userId));
      });
    // A deferred foreign key fails at COMMIT, after every unit of the group succeeded.
    await world.dataSource.query('PRAGMA defer_foreign_keys = ON');
    const breaking = world.unitOfWork.run(async (repositories) => {
      await repositories.sessions.insert({ ...world.sessions.draft({ userId: 'nobody' }) });
    });

    const outcomes = await Promise.allSettled([unit('ann'), breaking, unit('cid')]);

    expect(outcomes.map(({ status }) => status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await userIds()).toEqual([]);
    expect(committed).toEqual([]);
  });

  it('answers a committed unit as stored even when its after-commit work throws, and keeps taking writes', async () => {
    const unit = (userId: string) =>
      world.unitOfWork.run(async (repositories) => {
        await repositories.users.ensureExists(userId, CREATED_AT);
        repositories.afterCommit(() => {
          throw new Error('bookkeeping failed');
        });
        return userId;
      });

    await expect(Promise.all([unit('ann'), unit('bob')])).resolves.toEqual(['ann', 'bob']);
    await expect(unit('cid')).resolves.toBe('cid');
    expect(await userIds()).toEqual(['ann', 'bob', 'cid']);
  });

  it('runs a unit alone as a plain transaction', async () => {
    const recorder = recordStatements(world.dataSource);
    await world.unitOfWork.run((repositories) => repositories.users.ensureExists('ann', CREATED_AT));
    recorder.stop();

    expect(recorder.ran.map(({ sql }) => sql.split(' ')[0])).toEqual(['BEGIN', 'INSERT', 'COMMIT']);
  });

  it('stays in step with SQLite after SQLite rolled a whole transaction back itself (disk full, I/O error)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'unit-of-work-'));
    const file = new DataSource(dataSourceOptions({ kind: 'sqlite', path: join(directory, 'chat.db') }));
    await file.initialize();
    try {
      await migrate(file);
      // RAISE(ROLLBACK) ends the whole transaction, as SQLITE_FULL or SQLITE_IOERR do.
      await file.query("CREATE TRIGGER roll_back BEFORE INSERT ON users WHEN NEW.user_id = 'boom' BEGIN SELECT RAISE(ROLLBACK, 'rolled back'); END");
      const unitOfWork = new UnitOfWork(file);
      const insert = (userId: string) => unitOfWork.run((repositories) => repositories.users.ensureExists(userId, CREATED_AT));

      await expect(insert('boom')).rejects.toThrow('rolled back');
      // In a group, it ends the group's transaction: none of it is stored, all fail with that error.
      const group = await Promise.allSettled([insert('eve'), insert('boom'), insert('fay')]);
      expect(group.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : outcome.status))).toEqual([
        expect.stringContaining('rolled back'),
        expect.stringContaining('rolled back'),
        expect.stringContaining('rolled back'),
      ]);
      // Then an ordinary failure, undone by the database's ROLLBACK as usual.
      const failing = unitOfWork.run(async (repositories) => {
        await repositories.users.ensureExists('dan', CREATED_AT);
        throw new Error('refused after writing');
      });
      await expect(failing).rejects.toThrow('refused after writing');
      await insert('ann');
      await Promise.all([insert('bob'), insert('cid')]);

      // Another connection sees them: they were committed, not left in a transaction still open.
      const reader = new Database(join(directory, 'chat.db'), { readonly: true });
      try {
        expect(reader.prepare('SELECT user_id FROM users ORDER BY user_id').pluck().all()).toEqual(['ann', 'bob', 'cid']);
      } finally {
        reader.close();
      }
    } finally {
      await file.destroy();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
