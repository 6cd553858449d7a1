import { RateLimited } from '../common/errors.js';
import type { CoordinationRepository } from './coordination.repository.js';

const WINDOW_MS = 60_000;

/**
 * RATE_LIMIT_PER_MINUTE turns per caller over a sliding minute. The caller is the API key (the
 * user in open mode), never a header the client controls.
 */
export abstract class RateLimiter {
  constructor(protected readonly limit: number) {}

  /** Counts a turn for the caller, or refuses it with 429 and how long to wait. */
  abstract take(scope: string): Promise<void>;

  protected refuse(oldestStart: number, now: number): never {
    throw new RateLimited(Math.max(1, Math.ceil((oldestStart + WINDOW_MS - now) / 1000)), this.limit);
  }
}

/** One process (SQLite): the starts of the last minute, in memory, oldest first. */
export class InMemoryRateLimiter extends RateLimiter {
  private readonly starts = new Map<string, number[]>();

  async take(scope: string, now = Date.now()): Promise<void> {
    let recent = this.starts.get(scope);
    if (!recent) this.starts.set(scope, (recent = []));
    // Starts leave from the front as they age out: a turn costs the few that left, not the whole window.
    let aged = 0;
    while (aged < recent.length && recent[aged] <= now - WINDOW_MS) aged += 1;
    if (aged > 0) recent.splice(0, aged);
    if (recent.length >= this.limit) this.refuse(recent[0], now);
    recent.push(now);
    if (this.starts.size > 10_000) this.forgetIdle(now);
  }

  private forgetIdle(now: number): void {
    for (const [scope, times] of this.starts) {
      if (times.every((at) => at <= now - WINDOW_MS)) this.starts.delete(scope);
    }
  }
}

/**
 * Instances sharing PostgreSQL: the starts of the last minute are rows of `rate_limit_hits`,
 * counted and added under an advisory lock on the caller, on the database's clock, in one round
 * trip (the `take_rate_limit` function, see its migration). One limit for the whole cluster,
 * and it survives restarts.
 */
export class DatabaseRateLimiter extends RateLimiter {
  constructor(
    private readonly coordination: CoordinationRepository,
    limit: number,
  ) {
    super(limit);
  }

  async take(scope: string): Promise<void> {
    const window = await this.coordination.takeRateLimit(scope, this.limit, WINDOW_MS);
    if (!window.admitted) this.refuse(window.oldest, window.now);
  }
}
