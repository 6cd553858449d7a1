import { KeyedQueue } from './keyed-queue.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(KeyedQueue.name, () => {
  describe('run', () => {
    it('runs the tasks of one key one at a time, in arrival order', async () => {
      const serializer = new KeyedQueue();
      const log: string[] = [];
      const task = (name: string, ms: number) => async () => {
        log.push(`start ${name}`);
        await tick(ms);
        log.push(`end ${name}`);
        return name;
      };
      await expect(Promise.all([serializer.run('a', task('1', 20)), serializer.run('a', task('2', 1)), serializer.run('a', task('3', 5))])).resolves.toEqual(['1', '2', '3']);
      expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    });

    it('runs different keys side by side', async () => {
      const serializer = new KeyedQueue();
      const log: string[] = [];
      await Promise.all([
        serializer.run('a', async () => {
          log.push('a');
          await tick(20);
          log.push('a done');
        }),
        serializer.run('b', async () => {
          log.push('b');
          await tick(1);
          log.push('b done');
        }),
      ]);
      expect(log).toEqual(['a', 'b', 'b done', 'a done']);
    });

    it('goes on after a failed task, and forgets idle keys', async () => {
      const serializer = new KeyedQueue();
      const failed = serializer.run('a', async () => {
        throw new Error('boom');
      });
      const next = serializer.run('a', async () => 'next');
      await expect(failed).rejects.toThrow('boom');
      await expect(next).resolves.toBe('next');
      await tick(0);
      expect(serializer.activeKeys).toBe(0);
    });
  });
});

describe(`${KeyedQueue.name} places`, () => {
  it('runs tasks in the order places were taken, not the order tasks were given', async () => {
    const serializer = new KeyedQueue();
    const log: string[] = [];
    const first = serializer.enter('a');
    const second = serializer.enter('a');
    const ran = second.run(async () => log.push('second'));
    await tick(5);
    expect(log).toEqual([]);
    await first.run(async () => log.push('first'));
    await ran;
    expect(log).toEqual(['first', 'second']);
  });

  it('lets those behind move up when a place is left unused', async () => {
    const serializer = new KeyedQueue();
    const unused = serializer.enter('a');
    const next = serializer.enter('a').run(async () => 'next');
    unused.leave();
    await expect(next).resolves.toBe('next');
    await tick(0);
    expect(serializer.activeKeys).toBe(0);
  });
});

describe(`${KeyedQueue.name} places left while those ahead still run`, () => {
  it('keeps those behind waiting for those ahead', async () => {
    const serializer = new KeyedQueue();
    const log: string[] = [];
    let finishFirst!: () => void;
    const first = serializer.run('a', () => new Promise<void>((resolve) => (finishFirst = () => (log.push('first done'), resolve()))));
    const refused = serializer.enter('a');
    const third = serializer.run('a', async () => log.push('third'));
    refused.leave();
    await tick(5);
    expect(log).toEqual([]);
    finishFirst();
    await Promise.all([first, third]);
    expect(log).toEqual(['first done', 'third']);
  });
});
