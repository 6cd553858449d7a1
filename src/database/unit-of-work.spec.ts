import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { dataSourceOptions } from './data-source-options.js';
import { UnitOfWork } from './unit-of-work.js';

/** The one repository of these specs: names. */
const namesOf = (manager: EntityManager) => ({
  add: async (name: string) => void (await manager.query('INSERT INTO names (name) VALUES (?)', [name])),
  mention: async (name: string) => void (await manager.query('INSERT INTO mentions (name) VALUES (?)', [name])),
});

describe('UnitOfWork on SQLite', () => {
  let dataSource: DataSource;
  let unitOfWork: UnitOfWork<{ names: ReturnType<typeof namesOf> }>;

  beforeEach(async () => {
    dataSource = new DataSource(dataSourceOptions({ kind: 'sqlite', path: ':memory:' }));
    await dataSource.initialize();
    await dataSource.query('CREATE TABLE names (name TEXT PRIMARY KEY)');
    await dataSource.query('CREATE TABLE mentions (id INTEGER PRIMARY KEY, name TEXT NOT NULL REFERENCES names (name))');
    unitOfWork = new UnitOfWork(dataSource, (manager) => ({ names: namesOf(manager) }));
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await dataSource.destroy();
  });

  const stored = async () => (await dataSource.query('SELECT name FROM names ORDER BY name')).map((row: { name: string }) => row.name);

  it('hands the work its repositories bound to the transaction, and answers its value once committed', async () => {
    await expect(unitOfWork.commit(async ({ names }) => (await names.add('ann'), 'done'))).resolves.toBe('done');
    expect(await stored()).toEqual(['ann']);
  });

  it('runs after-commit work of the units that committed, and never of one that failed', async () => {
    const committed: string[] = [];
    const unit = (name: string, fail = false) =>
      unitOfWork.commit(async ({ names, afterCommit }) => {
        await names.add(name);
        afterCommit(() => committed.push(name));
        if (fail) throw new Error(`${name} failed after writing`);
      });

    await Promise.allSettled([unit('ann'), unit('bob', true), unit('cid')]);

    expect(committed).toEqual(['ann', 'cid']);
  });

  it('runs none of a group’s after-commit work when its commit fails', async () => {
    const committed: string[] = [];
    await dataSource.query('PRAGMA defer_foreign_keys = ON');
    const unit = (name: string) =>
      unitOfWork.commit(async ({ names, afterCommit }) => {
        await names.add(name);
        afterCommit(() => committed.push(name));
      });
    const breaking = unitOfWork.commit(({ names }) => names.mention('nobody'));

    const outcomes = await Promise.allSettled([unit('ann'), breaking, unit('cid')]);

    expect(outcomes.map(({ status }) => status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(committed).toEqual([]);
  });

  it('answers a committed unit as stored even when its after-commit work throws, logs it, and keeps taking writes', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const unit = (name: string) =>
      unitOfWork.commit(async ({ names, afterCommit }) => {
        await names.add(name);
        afterCommit(() => {
          throw new Error('bookkeeping failed');
        });
        return name;
      });

    await expect(Promise.all([unit('ann'), unit('bob')])).resolves.toEqual(['ann', 'bob']);
    await expect(unit('cid')).resolves.toBe('cid');
    expect(await stored()).toEqual(['ann', 'bob', 'cid']);
    expect(logged.mock.calls).toEqual(Array(3).fill(['after a commit: Error: bookkeeping failed']));
  });
});
