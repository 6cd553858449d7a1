import { Inject, Injectable } from '@nestjs/common';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { loadPriceTable } from './price-table.js';
import type { ModelPrice, PriceTable, Rates } from './price-table.js';
import { picoToNano, ratePicoPerToken } from './money.js';
import { ZERO_USAGE } from './token-usage.js';
import type { TokenUsage } from './token-usage.js';

export type CostStatus = 'priced' | 'unpriced';

export interface Cost {
  /** Integer nano-dollars (1e-9 USD), or null when no price is known: never a made-up 0. */
  costNanoUsd: number | null;
  costStatus: CostStatus;
  /** The table entry that priced the call. */
  pricedModel: string | null;
}

/** Rates as whole pico-dollars per token, so the arithmetic is integer (the table is checked at load). */
function picoPerToken(usdPerMillion: number): number {
  return ratePicoPerToken(usdPerMillion)!;
}

export function normaliseModel(model: string): string {
  return model.trim().replace(/^models\//, '');
}

/**
 * Prices one Gemini call. Pure: the table is loaded once, nothing else is read.
 * Formula and pitfalls: README "How cost is computed".
 */
@Injectable()
export class PricingService {
  private readonly table: PriceTable;
  private readonly byModel: Map<string, ModelPrice>;

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.table = loadPriceTable(config.pricingFile);
    this.byModel = new Map(this.table.models.map((entry) => [entry.model, entry]));
  }

  prices(): ModelPrice[] {
    return this.table.models;
  }

  /** The table entry for a model id: exact, then without a `-001`-style version suffix. */
  find(model: string | null | undefined): ModelPrice | undefined {
    if (!model) return undefined;
    const id = normaliseModel(model);
    return this.byModel.get(id) ?? this.byModel.get(id.replace(/-\d{3}$/, ''));
  }

  /**
   * The most a call can cost: every prompt character a token, and the whole output cap used
   * (thinking counts against it). An unpriced model reserves nothing: it cannot be budgeted.
   */
  worstCaseNanoUsd(model: string, promptChars: number, maxOutputTokens: number): number {
    const entry = this.find(model);
    if (!entry) return 0;
    return computeNanoUsd(entry, { ...ZERO_USAGE, promptTokens: promptChars, outputTokens: maxOutputTokens });
  }

  /**
   * Prices the model that answered (`modelVersion`) and falls back to the one requested,
   * so a new alias of a priced model still costs what it costs. Usage that Gemini did not
   * report as valid counts (null) has no price either.
   */
  cost(answeringModel: string | null | undefined, requestedModel: string, usage: TokenUsage | null): Cost {
    const entry = usage && (this.find(answeringModel) ?? this.find(requestedModel));
    if (!entry) return { costNanoUsd: null, costStatus: 'unpriced', pricedModel: null };
    return { costNanoUsd: computeNanoUsd(entry, usage), costStatus: 'priced', pricedModel: entry.model };
  }
}

export function computeNanoUsd(entry: ModelPrice, usage: TokenUsage): number {
  // Above the threshold every class of the call is billed at the long-context rate;
  // the threshold counts the whole prompt, cached tokens included.
  const rates: Rates =
    entry.long_context && usage.promptTokens > entry.long_context.above_prompt_tokens ? entry.long_context : entry;
  const nonNegative = (n: number) => Math.max(0, n);
  const cached = Math.min(usage.cachedTokens, usage.promptTokens);
  const cachedAudio = Math.min(usage.audioCachedTokens, cached);
  const freshAudio = nonNegative(usage.audioPromptTokens - cachedAudio);
  // promptTokenCount already includes the cached tokens: bill them once, at the cached rate.
  const freshText = nonNegative(usage.promptTokens - cached - freshAudio);
  const pico =
    freshText * picoPerToken(rates.input_per_million_usd) +
    freshAudio * picoPerToken(rates.input_audio_per_million_usd) +
    (cached - cachedAudio) * picoPerToken(rates.cached_input_per_million_usd) +
    cachedAudio * picoPerToken(rates.cached_input_audio_per_million_usd) +
    usage.toolPromptTokens * picoPerToken(rates.input_per_million_usd) +
    // Thinking is billed as output; candidatesTokenCount excludes it.
    (usage.outputTokens + usage.thoughtsTokens) * picoPerToken(rates.output_per_million_usd);
  return picoToNano(pico);
}
