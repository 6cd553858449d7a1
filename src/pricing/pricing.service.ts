import { Injectable } from '@nestjs/common';
import { ModelCatalog } from '../models/model-catalog.js';
import { hasEveryRate, pricesAt } from '../models/model-table.js';
import type { CostStatus } from '../core/cost-status.js';
import { priceOf } from './price.js';
import type { TokenUsage } from '../core/token-usage.js';

export interface Cost {
  /** Integer nano-dollars (1e-9 USD), or null when no price is known: never a made-up 0. */
  costNanoUsd: number | null;
  costStatus: CostStatus;
  /** The table entry whose rates were used; null when unpriced. */
  pricedAs: string | null;
}

const UNPRICED: Cost = Object.freeze({ costNanoUsd: null, costStatus: 'unpriced', pricedAs: null });

/**
 * Prices Gemini calls from the model table: which entry, at which day's rates, and what the
 * price rests on (CostStatus). Pure: nothing is read but the table, loaded once. The arithmetic
 * is price.ts; formula and pitfalls: docs/api.md, "How cost is computed".
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
   * The most a call can cost: its prompt bound (`promptUsageOf`: every character a token, files
   * at their weight, audio at audio rates), and the whole output cap used
   * (thinking counts against it), at the highest rates it could be priced at — the requested
   * model's, or those of a model Google reroutes it to (its replacement, and theirs), which
   * answers and is priced in its place. An unpriced model reserves nothing: it cannot be budgeted.
   */
  worstCaseNanoUsd(model: string, prompt: TokenUsage, maxOutputTokens: number, at = new Date()): number {
    const usage = { ...prompt, outputTokens: maxOutputTokens };
    let worst = 0;
    const seen = new Set<string>();
    for (let entry = this.models.find(model); entry && !seen.has(entry.model); entry = this.models.find(entry.replacement)) {
      seen.add(entry.model);
      worst = Math.max(worst, priceOf(pricesAt(entry, at), usage) ?? 0);
    }
    return worst;
  }

  /**
   * What a prompt (its tokens, files' shares by modality) costs on `model` as input, and at most once the whole output
   * cap is spent too (at the tier the prompt puts the call on). Null when the model has no price.
   */
  promptCost(
    model: string,
    prompt: TokenUsage,
    maxOutputTokens: number,
    at = new Date(),
  ): { inputNanoUsd: number; maxNanoUsd: number } | null {
    const entry = this.models.find(model);
    if (!entry) return null;
    const prices = pricesAt(entry, at);
    // Input and output rates are always known (the table requires them); audio rates may not be.
    const inputNanoUsd = priceOf(prices, prompt);
    const maxNanoUsd = priceOf(prices, { ...prompt, outputTokens: maxOutputTokens });
    return inputNanoUsd === null || maxNanoUsd === null ? null : { inputNanoUsd, maxNanoUsd };
  }

  /**
   * Prices the model that answered (`modelVersion`; the requested one when Gemini does not say),
   * at the rates in force `at` the call. When that one has no price and the requested one has,
   * the call is `estimated` at the requested model's rates. Usage that Gemini did not report as
   * valid counts (null), or with tokens of a class the table has no rate for, has no price.
   * `certain` false: the usage or the answering model is not known for sure (a stream that broke
   * before its final count, a model name that was not one) — priced, but `estimated`.
   */
  cost(answeringModel: string | null | undefined, requestedModel: string, usage: TokenUsage | null, at = new Date(), certain = true): Cost {
    if (!usage) return UNPRICED;
    const answering = this.models.find(answeringModel || requestedModel);
    const own = answering ? priceOf(pricesAt(answering, at), usage) : null;
    if (own !== null) return { costNanoUsd: own, costStatus: certain ? 'priced' : 'estimated', pricedAs: answering!.model };
    // No price of its own (or none for some class it used): the requested model's, if it has one.
    const requested = this.models.find(requestedModel);
    const estimate = requested && requested !== answering ? priceOf(pricesAt(requested, at), usage) : null;
    if (estimate !== null) return { costNanoUsd: estimate, costStatus: 'estimated', pricedAs: requested!.model };
    return UNPRICED;
  }
}
