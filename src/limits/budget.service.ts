import { Inject, Injectable } from '@nestjs/common';
import { BudgetExceeded } from '../common/errors.js';
import { KeyedSerializer } from '../common/keyed-serializer.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { PricingService } from '../pricing/pricing.service.js';
import { UsageService } from '../usage/usage.service.js';
import { UsersRepository } from '../users/users.repository.js';

export type Release = () => void;

/**
 * Daily spend limits (USER_DAILY_BUDGET_USD, or the user's own). A turn is admitted only while
 * what the user spent today (UTC) plus what turns in flight may still cost is under the limit;
 * each admitted turn reserves its worst case until its real cost is stored. So concurrent turns
 * overshoot the limit by less than one turn. Reservations live in memory: one instance's view.
 */
@Injectable()
export class BudgetService {
  private readonly reserved = new Map<string, number>();
  private readonly admission = new KeyedSerializer();

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly users: UsersRepository,
    private readonly usage: UsageService,
    private readonly pricing: PricingService,
  ) {}

  /** Reserves the worst case of a call, or refuses it (429 BUDGET_EXCEEDED) before it is made. */
  admit(userId: string, model: string, promptChars: number): Promise<Release> {
    return this.admission.run(userId, async () => {
      const user = await this.users.findById(userId);
      const limit = user?.dailyBudgetNanoUsd ?? this.config.userDailyBudgetNanoUsd;
      if (limit === null) return () => undefined;
      const now = Date.now();
      const { spentNanoUsd, dayEndsAt } = await this.usage.spentToday(userId, now);
      const inFlight = this.reserved.get(userId) ?? 0;
      if (spentNanoUsd + inFlight >= limit) throw new BudgetExceeded(Math.ceil((dayEndsAt - now) / 1000));
      // A token is rarely shorter than a character: the prompt's length bounds its tokens.
      const worstCase = this.pricing.worstCaseNanoUsd(model, promptChars, this.config.gemini.maxOutputTokens);
      this.reserved.set(userId, inFlight + worstCase);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (this.reserved.get(userId) ?? 0) - worstCase;
        if (left > 0) this.reserved.set(userId, left);
        else this.reserved.delete(userId);
      };
    });
  }

  /** Nano-dollars reserved by the user's turns in flight (for tests and diagnostics). */
  reservedFor(userId: string): number {
    return this.reserved.get(userId) ?? 0;
  }
}
