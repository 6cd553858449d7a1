import { createWorld } from '../../test/support/unit-world.js';
import type { World } from '../../test/support/unit-world.js';
import { recordStatements } from '../../test/support/statements.js';

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
});
