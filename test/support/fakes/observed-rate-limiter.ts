import { InMemoryRateLimiter } from '../../../src/coordination/rate-limiter.js';

/** The rate limiter of one process, which also says when it has counted `count` turns (a turn is then queued). */
export class ObservedRateLimiter extends InMemoryRateLimiter {
  private taken = 0;
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  override async take(scope: string, now?: number): Promise<void> {
    await super.take(scope, now);
    this.taken += 1;
    for (const waiter of this.waiters.filter((w) => this.taken >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  takenTimes(count: number): Promise<void> {
    if (this.taken >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}
