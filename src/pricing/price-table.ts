import { readFileSync } from 'node:fs';
import { ConfigValidationError } from '../config/environment.js';
import { ratePicoPerToken } from './money.js';

export interface Rates {
  input_per_million_usd: number;
  input_audio_per_million_usd: number;
  output_per_million_usd: number;
  cached_input_per_million_usd: number;
  cached_input_audio_per_million_usd: number;
}

export interface ModelPrice extends Rates {
  model: string;
  /** Rates for the whole call when its prompt is longer than `above_prompt_tokens`. */
  long_context: (Rates & { above_prompt_tokens: number }) | null;
}

export interface PriceTable {
  source: string;
  retrieved: string;
  models: ModelPrice[];
}

const RATE_KEYS: (keyof Rates)[] = [
  'input_per_million_usd',
  'input_audio_per_million_usd',
  'output_per_million_usd',
  'cached_input_per_million_usd',
  'cached_input_audio_per_million_usd',
];

export const BUNDLED_PRICE_FILE = new URL('./gemini-prices.json', import.meta.url);

function checkRates(value: Record<string, unknown>, where: string): void {
  for (const key of RATE_KEYS) {
    const rate = value[key];
    if (typeof rate !== 'number' || ratePicoPerToken(rate) === null) {
      throw new Error(`${where}: ${key} must be a non-negative number of dollars with at most 6 decimals`);
    }
  }
}

/** Checks a parsed price file; throws a one-line error naming the faulty entry. */
export function validatePriceTable(data: unknown): PriceTable {
  const table = data as PriceTable;
  if (typeof table !== 'object' || table === null || !Array.isArray(table.models)) {
    throw new Error('must be an object with a "models" array');
  }
  const seen = new Set<string>();
  table.models.forEach((entry, index) => {
    const where = `models[${index}]`;
    if (typeof entry?.model !== 'string' || !entry.model) throw new Error(`${where}: model must be a string`);
    if (seen.has(entry.model)) throw new Error(`${where}: ${entry.model} is listed twice`);
    seen.add(entry.model);
    checkRates(entry as unknown as Record<string, unknown>, where);
    if (entry.long_context !== null && entry.long_context !== undefined) {
      checkRates(entry.long_context as unknown as Record<string, unknown>, `${where}.long_context`);
      if (!Number.isInteger(entry.long_context.above_prompt_tokens)) {
        throw new Error(`${where}.long_context: above_prompt_tokens must be an integer`);
      }
    } else {
      entry.long_context = null;
    }
  });
  return { source: String(table.source ?? ''), retrieved: String(table.retrieved ?? ''), models: table.models };
}

/** Loads the bundled table, or the file named by PRICING_FILE, which replaces it whole. */
export function loadPriceTable(file: string | null): PriceTable {
  const path = file ?? BUNDLED_PRICE_FILE;
  try {
    return validatePriceTable(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (file === null) throw new Error(`bundled price table is invalid: ${reason}`);
    throw new ConfigValidationError('PRICING_FILE', `(${file}) cannot be used: ${reason}`);
  }
}
