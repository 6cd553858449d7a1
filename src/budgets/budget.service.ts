import { Inject, Injectable } from '@nestjs/common';
import type { TokenUsage } from '../core/token-usage.js';
import { BudgetExceeded, ModelUnpriced } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { BudgetReservations } from '../coordination/budget-reservations.js';
import type { CoordinationTx, Hold } from '../coordination/hold.js';
import { DAY_MS, utcDay } from '../core/clock.js';
import { PricingService } from '../pricing/pricing.service.js';

const IN_FLIGHT_RETRY_SECONDS = 2;

/**
 * Daily spend limits (USER_DAILY_BUDGET_USD, or the user's own), counted from the spend ledger's
 * running daily totals, so deleting chats never resets them. Every turn reserves its worst case
 * in the database before it calls Gemini, limit or not, until its real cost is stored (see
 * BudgetReservations): a turn that cannot write its reservation makes no paid call.
 */
@Injectable()
export class BudgetService {
  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly pricing: PricingService,
    private readonly reservations: BudgetReservations,
  ) {}

  /**
   * Reserves the worst case of a call, or refuses it (429 BUDGET_EXCEEDED) before it is made.
   * `ownDailyBudgetNanoUsd` is the user's own limit, read with the session (null: the default).
   * Today's spend is read here, at admission, not before: a turn of the user's stored meanwhile counts.
   */
  async admit(userId: string, ownDailyBudgetNanoUsd: number | null, model: string, prompt: TokenUsage): Promise<Hold<CoordinationTx>> {
    const limitNanoUsd = ownDailyBudgetNanoUsd ?? this.config.userDailyBudgetNanoUsd;
    if (limitNanoUsd !== null && !this.pricing.isPriced(model)) throw new ModelUnpriced(model);
    const now = Date.now();
    const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
    // The prompt's bound: its characters (a token is rarely shorter) and its files' weights.
    const worstCaseNanoUsd = this.pricing.worstCaseNanoUsd(model, prompt, this.config.gemini.maxOutputTokens);
    const reservation = await this.reservations.reserve({
      userId,
      day: utcDay(new Date(dayStart).toISOString()),
      limitNanoUsd,
      worstCaseNanoUsd,
    });
    if (reservation === 'spent') throw new BudgetExceeded(Math.ceil((dayStart + DAY_MS - now) / 1000));
    // Not spent yet, only reserved: the turns in flight settle within a call's time.
    if (reservation === 'in-flight') throw new BudgetExceeded(IN_FLIGHT_RETRY_SECONDS, 'in-flight');
    return reservation;
  }
}
