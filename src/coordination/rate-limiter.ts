import { RateLimited } from '../common/errors.js';
import type { CoordinationRepository } from './coordination.repository.js';

const WINDOW_MS = 60_000;

/** What a window counts: the 429 names it, and its scopes are its own. */
export interface CountedCalls {
  /** What the 429 says is counted. */
  name: string;
  /**
   * Put before the caller's scope, so that two windows of one caller never count each other's
   * calls (on PostgreSQL their starts are rows of one table). The turn window has none: its
   * rows keep the scopes they have always had.
   */
  prefix: string;
}

/** Turns, and the sessions and files a caller creates (POST /sessions, POST /files): one window, RATE_LIMIT_PER_MINUTE. */
export const TURNS: CountedCalls = { name: 'turns, new sessions and uploads', prefix: '' };
/** POST /sessions/:id/estimate: each may make countTokens calls on the service's Gemini key. */
export const ESTIMATES: CountedCalls = { name: 'estimates', prefix: 'estimate:' };

/** The window of estimates (ESTIMATES_PER_MINUTE), a RateLimiter of its own; `RateLimiter` itself is the turn window. */
export const ESTIMATE_RATE_LIMITER = Symbol('ESTIMATE_RATE_LIMITER');

/**
 * `limit` calls per caller over a sliding minute: RATE_LIMIT_PER_MINUTE turns, new sessions and uploads, or
 * ESTIMATES_PER_MINUTE estimates. The caller is the API key (the user in open mode), never a
 * header the client controls.
 */
export abstract class RateLimiter {
  constructor(
    protected readonly limit: number,
    protected readonly counts: CountedCalls = TURNS,
  ) {}

  /** Counts a call for the caller, or refuses it with 429 and how long to wait. */
  abstract take(scope: string): Promise<void>;

  protected refuse(oldestStart: number, now: number): never {
    throw new RateLimited(Math.max(1, Math.ceil((oldestStart + WINDOW_MS - now) / 1000)), this.limit, this.counts.name);
  }
}

/** One process (SQLite): the starts of the last minute, in memory, oldest first. */
export class InMemoryRateLimiter extends RateLimiter {
  private readonly starts = new Map<string, number[]>();

  async take(scope: string, now = Date.now()): Promise<void> {
    const key = this.counts.prefix + scope;
    let recent = this.starts.get(key);
    if (!recent) this.starts.set(key, (recent = []));
    // Starts leave from the front as they age out: a call costs the few that left, not the whole window.
    let aged = 0;
    while (aged < recent.length && recent[aged] <= now - WINDOW_MS) aged += 1;
    if (aged > 0) recent.splice(0, aged);
    if (recent.length >= this.limit) this.refuse(recent[0], now);
    recent.push(now);
    if (this.starts.size > 10_000) this.forgetIdle(now);
  }

  private forgetIdle(now: number): void {
    for (const [key, times] of this.starts) {
      if (times.every((at) => at <= now - WINDOW_MS)) this.starts.delete(key);
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
    counts: CountedCalls = TURNS,
  ) {
    super(limit, counts);
  }

  async take(scope: string): Promise<void> {
    const window = await this.coordination.takeRateLimit(this.counts.prefix + scope, this.limit, WINDOW_MS);
    if (!window.admitted) this.refuse(window.oldest, window.now);
  }
}
