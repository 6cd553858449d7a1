import type { Prices, Rates } from '../models/model-table.js';
import { picoToNano, ratePicoPerToken } from '../core/money.js';
import { cachedByModality, promptByModality } from '../core/token-usage.js';
import type { TokenUsage } from '../core/token-usage.js';

/** Rates as whole pico-dollars per token, so the arithmetic is integer (the table is checked at load). */
function picoPerToken(usdPerMillion: number): number {
  return ratePicoPerToken(usdPerMillion)!;
}

/**
 * What one call costs, in integer nano-dollars, at these rates: the price function. Null when
 * the call has tokens of a class the rates leave unknown (null): never a made-up 0.
 */
export function priceOf(prices: Prices, usage: TokenUsage): number | null {
  // Above the threshold every class of the call is billed at the long-context rate;
  // the threshold counts the whole prompt, cached tokens included.
  const rates: Rates = prices.long_context && usage.promptTokens > prices.long_context.above_prompt_tokens ? prices.long_context : prices;
  // promptTokenCount already includes the cached tokens: bill them once, at the cached rate;
  // cached tokens beyond the prompt are the whole prompt cached. Every prompt token is billed once.
  const cached = Math.min(usage.cachedTokens, usage.promptTokens);
  const cachedAudio = Math.min(cachedByModality(usage).audio, cached);
  const freshAudio = Math.min(Math.max(0, promptByModality(usage).audio - cachedAudio), usage.promptTokens - cached);
  // Every other modality — text, image, video, document (PDF) — is billed at the input rates, as Google bills it.
  const freshText = usage.promptTokens - cached - freshAudio;
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
