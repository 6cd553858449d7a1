import { KeyedQueue } from './keyed-queue.js';
import type { QueuePlace } from './keyed-queue.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A queue that says how many keys it still keeps. */
class WatchedQueue extends KeyedQueue {
  get keys(): number {
    return this.tails.size;
  }
}

/** What a turn does with its place: waits until it is reached, does its work, leaves. */
async function at<T>(place: QueuePlace, task: () => Promise<T>): Promise<T> {
  await place.reached;
  try {
    return await task();
  } finally {
    place.leave();
  }
}

describe(KeyedQueue.name, () => {
  describe('serially', () => {
    it('runs the tasks of one key one at a time, in arrival order', async () => {
      const queue = new WatchedQueue();
      const log: string[] = [];
      const task = (name: string, ms: number) => async () => {
        log.push(`start ${name}`);
        await tick(ms);
        log.push(`end ${name}`);
        return name;
      };
      await expect(
        Promise.all([queue.serially('a', task('1', 20)), queue.serially('a', task('2', 1)), queue.serially('a', task('3', 5))]),
      ).resolves.toEqual(['1', '2', '3']);
      expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    });

    it('runs different keys side by side', async () => {
      const queue = new WatchedQueue();
      const log: string[] = [];
      await Promise.all([
        queue.serially('a', async () => {
          log.push('a');
          await tick(20);
          log.push('a done');
        }),
        queue.serially('b', async () => {
          log.push('b');
          await tick(1);
          log.push('b done');
        }),
      ]);
      expect(log).toEqual(['a', 'b', 'b done', 'a done']);
    });

    it('goes on after a failed task, and forgets idle keys', async () => {
      const queue = new WatchedQueue();
      const failed = queue.serially('a', async () => {
        throw new Error('boom');
      });
      const next = queue.serially('a', async () => 'next');
      await expect(failed).rejects.toThrow('boom');
      await expect(next).resolves.toBe('next');
      await tick(0);
      expect(queue.keys).toBe(0);
    });
  });
});

describe(`${KeyedQueue.name} places`, () => {
  it('runs tasks in the order places were taken, not the order tasks were given', async () => {
    const queue = new WatchedQueue();
    const log: string[] = [];
    const first = queue.enter('a');
    const second = queue.enter('a');
    const ran = at(second, async () => log.push('second'));
    await tick(5);
    expect(log).toEqual([]);
    await at(first, async () => log.push('first'));
    await ran;
    expect(log).toEqual(['first', 'second']);
  });

  it('lets those behind move up when a place is left unused', async () => {
    const queue = new WatchedQueue();
    const unused = queue.enter('a');
    const next = at(queue.enter('a'), async () => 'next');
    unused.leave();
    await expect(next).resolves.toBe('next');
    await tick(0);
    expect(queue.keys).toBe(0);
  });
});

describe(`${KeyedQueue.name} places left while those ahead still run`, () => {
  it('keeps those behind waiting for those ahead', async () => {
    const queue = new WatchedQueue();
    const log: string[] = [];
    let finishFirst!: () => void;
    const first = queue.serially('a', () => new Promise<void>((resolve) => (finishFirst = () => (log.push('first done'), resolve()))));
    const refused = queue.enter('a');
    const third = queue.serially('a', async () => log.push('third'));
    refused.leave();
    await tick(5);
    expect(log).toEqual([]);
    finishFirst();
    await Promise.all([first, third]);
    expect(log).toEqual(['first done', 'third']);
  });
});
