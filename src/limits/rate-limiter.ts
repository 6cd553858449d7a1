import { Inject, Injectable } from '@nestjs/common';
import { RateLimited } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';

const WINDOW_MS = 60_000;

/**
 * RATE_LIMIT_PER_MINUTE turns per caller over a sliding minute. The caller is the API key (the
 * user in open mode), never a header the client controls. Kept in memory: each instance of a
 * scaled-out service limits on its own.
 */
@Injectable()
export class RateLimiter {
  private readonly starts = new Map<string, number[]>();
  private readonly limit: number;

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.limit = config.rateLimitPerMinute;
  }

  /** Counts a turn for the caller, or refuses it with 429 and how long to wait. */
  take(scope: string, now = Date.now()): void {
    const recent = (this.starts.get(scope) ?? []).filter((at) => at > now - WINDOW_MS);
    if (recent.length >= this.limit) {
      this.starts.set(scope, recent);
      throw new RateLimited(Math.max(1, Math.ceil((recent[0] + WINDOW_MS - now) / 1000)), this.limit);
    }
    recent.push(now);
    this.starts.set(scope, recent);
    if (this.starts.size > 10_000) this.forgetIdle(now);
  }

  private forgetIdle(now: number): void {
    for (const [scope, times] of this.starts) {
      if (times.every((at) => at <= now - WINDOW_MS)) this.starts.delete(scope);
    }
  }
}
