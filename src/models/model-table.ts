import { readFileSync } from 'node:fs';
import { ConfigValidationError } from '../config/environment.js';
import { ratePicoPerToken } from '../core/money.js';

/** USD per 1M tokens. Null: not known (a call with tokens of that class cannot be priced). */
export interface Rates {
  input_per_million_usd: number;
  input_audio_per_million_usd: number | null;
  output_per_million_usd: number;
  cached_input_per_million_usd: number | null;
  cached_input_audio_per_million_usd: number | null;
}

export type LongContextRates = Rates & { above_prompt_tokens: number };

/** What a call is priced with: the rates, and those of the whole call above a prompt length. */
export interface Prices extends Rates {
  long_context: LongContextRates | null;
}

/** Prices that apply from a date (UTC) on. */
export interface PriceChange extends Prices {
  /** `YYYY-MM-DD`. */
  from: string;
}

/** A page an entry was read from, and which copy of it. */
export interface TableSource {
  url: string;
  /** The page's own date, or how it was read. */
  snapshot: string | null;
  /** `rates`, `limits` or `lifecycle`. */
  used_for: string | null;
}

export const MODEL_STATUSES = ['stable', 'preview', 'deprecated', 'retired'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

/** One model of the table: what it costs, how much it takes, and where it is in its life. */
export interface ModelEntry extends Prices {
  model: string;
  /** Later rates, oldest first; the entry's own apply before the first. */
  price_changes: PriceChange[];
  /** Most prompt tokens one call may carry (null: not known, no limit is applied here). */
  input_token_limit: number | null;
  output_token_limit: number | null;
  status: ModelStatus;
  /** `YYYY-MM-DD`: when Google stops (or stopped) serving it; null when none is announced. */
  shutdown_date: string | null;
  /** The model Google names in its place. */
  replacement: string | null;
  /** The pages this entry was read from. */
  sources: TableSource[];
  /** The fields of this entry that no official page confirmed. */
  unconfirmed: string[];
}

export interface ModelTable {
  /** `YYYY-MM-DD`: when the sources were read. */
  read: string;
  sources: TableSource[];
  models: ModelEntry[];
}

const RATE_KEYS: (keyof Rates)[] = [
  'input_per_million_usd',
  'input_audio_per_million_usd',
  'output_per_million_usd',
  'cached_input_per_million_usd',
  'cached_input_audio_per_million_usd',
];
/** Without these a model has no price at all: it does not belong in the table. */
const REQUIRED_RATES: (keyof Rates)[] = ['input_per_million_usd', 'output_per_million_usd'];

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export const BUNDLED_MODEL_FILE = new URL('./gemini-models.json', import.meta.url);

function ratesOf(value: Record<string, unknown>, where: string): Rates {
  const rates = {} as Record<keyof Rates, number | null>;
  for (const key of RATE_KEYS) {
    const rate = value[key] ?? null;
    if (rate === null && !REQUIRED_RATES.includes(key)) {
      rates[key] = null;
      continue;
    }
    if (typeof rate !== 'number' || ratePicoPerToken(rate) === null) {
      throw new Error(`${where}: ${key} must be a non-negative number of dollars with at most 6 decimals`);
    }
    rates[key] = rate;
  }
  return rates as unknown as Rates;
}

function longContextOf(value: unknown, where: string): LongContextRates | null {
  if (value === null || value === undefined) return null;
  const longContext = value as Record<string, unknown>;
  if (!Number.isInteger(longContext.above_prompt_tokens)) throw new Error(`${where}: above_prompt_tokens must be an integer`);
  return { ...ratesOf(longContext, where), above_prompt_tokens: longContext.above_prompt_tokens as number };
}

function priceChangesOf(value: unknown, where: string): PriceChange[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${where} must be a list`);
  let previous = '';
  return value.map((change: Record<string, unknown>, index) => {
    const at = `${where}[${index}]`;
    const from = optionalDate(change?.from, `${at}: from`);
    if (from === null || from <= previous) throw new Error(`${at}: from must be a YYYY-MM-DD date after the one before`);
    previous = from;
    return { from, ...ratesOf(change, at), long_context: longContextOf(change.long_context, `${at}.long_context`) };
  });
}

function optionalLimit(value: unknown, where: string): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new Error(`${where} must be a whole number of tokens, 1 or more`);
  return value as number;
}

function optionalDate(value: unknown, where: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !ISO_DATE.test(value) || Number.isNaN(Date.parse(value)))
    throw new Error(`${where} must be a YYYY-MM-DD date`);
  return value;
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new Error(`${where} must be a list of strings`);
  return value as string[];
}

/** Sources as URLs, or as `{url, snapshot, used_for}`. */
function sourcesOf(value: unknown, where: string): TableSource[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((source: unknown) => {
    if (typeof source === 'string') return { url: source, snapshot: null, used_for: null };
    const { url, snapshot, used_for } = (source ?? {}) as Record<string, unknown>;
    if (
      typeof url !== 'string' ||
      (snapshot != null && typeof snapshot !== 'string') ||
      (used_for != null && typeof used_for !== 'string')
    ) {
      throw new Error(`${where} must be URLs or {url, snapshot, used_for} objects`);
    }
    return { url, snapshot: (snapshot as string | undefined) ?? null, used_for: (used_for as string | undefined) ?? null };
  });
}

/**
 * Checks a parsed model file; throws a one-line error naming the faulty entry. Only the rates are
 * required: a file written before limits and lifecycle were kept (`source`, `retrieved`, rates)
 * still loads, its models stable with unknown limits.
 */
export function validateModelTable(data: unknown): ModelTable {
  const table = data as Record<string, unknown>;
  if (typeof table !== 'object' || table === null || !Array.isArray(table.models)) {
    throw new Error('must be an object with a "models" array');
  }
  const sources = sourcesOf(table.sources ?? table.source, 'sources');
  const seen = new Set<string>();
  const models = (table.models as unknown[]).map((item, index): ModelEntry => {
    const where = `models[${index}]`;
    const entry = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    if (typeof entry.model !== 'string' || !entry.model) throw new Error(`${where}: model must be a string`);
    if (seen.has(entry.model)) throw new Error(`${where}: ${entry.model} is listed twice`);
    seen.add(entry.model);
    const status = (entry.status ?? 'stable') as ModelStatus;
    if (!MODEL_STATUSES.includes(status)) throw new Error(`${where}: status must be one of ${MODEL_STATUSES.join(', ')}`);
    if (entry.replacement !== undefined && entry.replacement !== null && typeof entry.replacement !== 'string') {
      throw new Error(`${where}: replacement must be a model id or null`);
    }
    return {
      model: entry.model,
      ...ratesOf(entry, where),
      long_context: longContextOf(entry.long_context, `${where}.long_context`),
      price_changes: priceChangesOf(entry.price_changes, `${where}.price_changes`),
      input_token_limit: optionalLimit(entry.input_token_limit, `${where}: input_token_limit`),
      output_token_limit: optionalLimit(entry.output_token_limit, `${where}: output_token_limit`),
      status,
      shutdown_date: optionalDate(entry.shutdown_date, `${where}: shutdown_date`),
      replacement: entry.replacement ?? null,
      sources: entry.sources === undefined ? sources : sourcesOf(entry.sources, `${where}: sources`),
      unconfirmed: stringList(entry.unconfirmed, `${where}: unconfirmed`),
    };
  });
  const read = table.read ?? table.retrieved;
  return { read: typeof read === 'string' ? read : '', sources, models };
}

/** Whether the entry has a rate for every token class, at every date and tier. */
export function hasEveryRate(entry: ModelEntry): boolean {
  const complete = (rates: Rates) => RATE_KEYS.every((key) => rates[key] !== null);
  return [entry, ...entry.price_changes].every(
    (prices) => complete(prices) && (prices.long_context === null || complete(prices.long_context)),
  );
}

/** The rates of a model in force at an instant: its own, or those of the last price change by then. */
export function pricesAt(entry: ModelEntry, at: Date): Prices {
  const day = at.toISOString().slice(0, 10);
  const prices = entry.price_changes.findLast((change) => change.from <= day) ?? entry;
  const rates = Object.fromEntries(RATE_KEYS.map((key) => [key, prices[key]])) as unknown as Rates;
  return { ...rates, long_context: prices.long_context };
}

/** Loads the bundled table, or the file named by PRICING_FILE, which replaces it whole. */
export function loadModelTable(file: string | null): ModelTable {
  const path = file ?? BUNDLED_MODEL_FILE;
  try {
    return validateModelTable(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (file === null) throw new Error(`bundled model table is invalid: ${reason}`, { cause: error });
    throw new ConfigValidationError('PRICING_FILE', `(${file}) cannot be used: ${reason}`);
  }
}
