import { Injectable } from '@nestjs/common';
import { ModelCatalog } from '../models/model-catalog.js';
import { hasEveryRate, pricesAt } from '../models/model-table.js';
import type { Prices, Rates } from '../models/model-table.js';
import { picoToNano, ratePicoPerToken } from '../core/money.js';
import type { CostStatus } from '../core/cost-status.js';
import { ZERO_USAGE } from '../core/token-usage.js';
import type { TokenUsage } from '../core/token-usage.js';

export interface Cost {
  /** Integer nano-dollars (1e-9 USD), or null when no price is known: never a made-up 0. */
  costNanoUsd: number | null;
  costStatus: CostStatus;
  /** The table entry whose rates were used; null when unpriced. */
  pricedAs: string | null;
}

const UNPRICED: Cost = Object.freeze({ costNanoUsd: null, costStatus: 'unpriced', pricedAs: null });

/** Rates as whole pico-dollars per token, so the arithmetic is integer (the table is checked at load). */
function picoPerToken(usdPerMillion: number): number {
  return ratePicoPerToken(usdPerMillion)!;
}

/**
 * Prices Gemini calls from the model table. Pure: nothing is read but the table, loaded once.
 * Formula and pitfalls: README "How cost is computed".
 */
@Injectable()
export class PricingService {
  constructor(private readonly models: ModelCatalog) {}

  /**
   * Whether every turn on the model can be priced, whatever its token classes: what can be
   * budgeted. A model whose table entry lacks a rate (a cached rate Google does not publish)
   * cannot: a turn with tokens of that class would cost an unknown amount.
   */
  isPriced(model: string): boolean {
    const entry = this.models.find(model);
    return entry !== undefined && hasEveryRate(entry);
  }

  /**
   * The most a call can cost: every prompt character a token, and the whole output cap used
   * (thinking counts against it). An unpriced model reserves nothing: it cannot be budgeted.
   */
  worstCaseNanoUsd(model: string, promptChars: number, maxOutputTokens: number, at = new Date()): number {
    const entry = this.models.find(model);
    if (!entry) return 0;
    return computeNanoUsd(pricesAt(entry, at), { ...ZERO_USAGE, promptTokens: promptChars, outputTokens: maxOutputTokens }) ?? 0;
  }

  /**
   * What a prompt of `promptTokens` costs on `model` as input, and at most once the whole output
   * cap is spent too (at the tier the prompt puts the call on). Null when the model has no price.
   */
  promptCost(model: string, promptTokens: number, maxOutputTokens: number, at = new Date()): { inputNanoUsd: number; maxNanoUsd: number } | null {
    const entry = this.models.find(model);
    if (!entry) return null;
    const prices = pricesAt(entry, at);
    // Input and output rates are always known (the table requires them).
    return {
      inputNanoUsd: computeNanoUsd(prices, { ...ZERO_USAGE, promptTokens })!,
      maxNanoUsd: computeNanoUsd(prices, { ...ZERO_USAGE, promptTokens, outputTokens: maxOutputTokens })!,
    };
  }

  /**
   * Prices the model that answered (`modelVersion`; the requested one when Gemini does not say),
   * at the rates in force `at` the call. When that one has no price and the requested one has,
   * the call is `estimated` at the requested model's rates. Usage that Gemini did not report as
   * valid counts (null), or with tokens of a class the table has no rate for, has no price.
   */
  cost(answeringModel: string | null | undefined, requestedModel: string, usage: TokenUsage | null, at = new Date()): Cost {
    if (!usage) return UNPRICED;
    const answering = this.models.find(answeringModel || requestedModel);
    const own = answering ? computeNanoUsd(pricesAt(answering, at), usage) : null;
    if (own !== null) return { costNanoUsd: own, costStatus: 'priced', pricedAs: answering!.model };
    // No price of its own (or none for some class it used): the requested model's, if it has one.
    const requested = this.models.find(requestedModel);
    const estimate = requested && requested !== answering ? computeNanoUsd(pricesAt(requested, at), usage) : null;
    if (estimate !== null) return { costNanoUsd: estimate, costStatus: 'estimated', pricedAs: requested!.model };
    return UNPRICED;
  }

  /** A stored turn's cost again, from its counts, the entry it was priced as (null: unpriced) and when: the e2e suite's stored-cost check. */
  recompute(pricedAs: string | null, usage: TokenUsage, at: Date): number | null {
    const entry = pricedAs === null ? undefined : this.models.find(pricedAs);
    return entry ? computeNanoUsd(pricesAt(entry, at), usage) : null;
  }
}

export function computeNanoUsd(prices: Prices, usage: TokenUsage): number | null {
  // Above the threshold every class of the call is billed at the long-context rate;
  // the threshold counts the whole prompt, cached tokens included.
  const rates: Rates = prices.long_context && usage.promptTokens > prices.long_context.above_prompt_tokens ? prices.long_context : prices;
  const nonNegative = (n: number) => Math.max(0, n);
  const cached = Math.min(usage.cachedTokens, usage.promptTokens);
  const cachedAudio = Math.min(usage.audioCachedTokens, cached);
  const freshAudio = nonNegative(usage.audioPromptTokens - cachedAudio);
  // promptTokenCount already includes the cached tokens: bill them once, at the cached rate.
  const freshText = nonNegative(usage.promptTokens - cached - freshAudio);
  let pico = 0;
  const bill = (tokens: number, usdPerMillion: number | null): boolean => {
    if (tokens === 0) return true;
    if (usdPerMillion === null) return false;
    pico += tokens * picoPerToken(usdPerMillion);
    return true;
  };
  const priced =
    bill(freshText, rates.input_per_million_usd) &&
    bill(freshAudio, rates.input_audio_per_million_usd) &&
    bill(cached - cachedAudio, rates.cached_input_per_million_usd) &&
    bill(cachedAudio, rates.cached_input_audio_per_million_usd) &&
    bill(usage.toolPromptTokens, rates.input_per_million_usd) &&
    // Thinking is billed as output; candidatesTokenCount excludes it.
    bill(usage.outputTokens + usage.thoughtsTokens, rates.output_per_million_usd);
  return priced ? picoToNano(pico) : null;
}
