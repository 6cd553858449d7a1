import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseHost } from '../common/host-names.js';
import type { HostName } from '../common/host-names.js';
import { MODEL_ID_PATTERN } from '../common/validation-rules.js';
import { usdToNano } from '../core/money.js';

/** A configuration value that stops the start. The message is one line naming the variable. */
export class ConfigValidationError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`Invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigValidationError';
  }
}

export type DatabaseSettings =
  | { kind: 'sqlite'; path: string } // ':memory:' or an absolute file path
  | { kind: 'postgres'; url: string };

export interface GeminiSettings {
  apiKey: string | null;
  baseUrl: string | null;
  model: string;
  timeoutMs: number;
  maxOutputTokens: number;
  /** Extra attempts after a 429 or 503, within the deadline. */
  retries: number;
}

export interface AppSettings {
  port: number;
  host: string;
  database: DatabaseSettings;
  gemini: GeminiSettings;
  /** True when neither a key nor a base URL is configured: the bundled emulator is started. */
  offline: boolean;
  maxMessageChars: number;
  pricingFile: string | null;
  logFormat: 'text' | 'json';
  /** Null: open mode (no authentication), as the original services were. */
  adminApiKey: string | null;
  /** Turns a caller may start, and sessions they may create, per minute (one window). */
  rateLimitPerMinute: number;
  /** Estimates (POST /sessions/:id/estimate) a caller may ask for per minute, in a window of their own. */
  estimatesPerMinute: number;
  /** Default daily spend limit per user in nano-dollars; null: none. */
  userDailyBudgetNanoUsd: number | null;
  /** Origins allowed by CORS; empty: CORS off. */
  corsOrigins: string[];
  /** PostgreSQL connections per instance. */
  databasePoolSize: number;
  /**
   * PostgreSQL: how long a session lease or budget reservation of an instance outlives its last
   * heartbeat (sent every third of it). An instance that dies holds them this long at most.
   */
  leaseTtlMs: number;
  /** How long a request body may take to arrive whole. */
  requestBodyTimeoutMs: number;
  /**
   * `Host`s served besides the loopback names (a name without a port: any port). Empty: in open
   * mode only loopback names; with keys, any Host.
   */
  allowedHosts: HostName[];
  /** GET /metrics answers (Prometheus text); off: 404 like any unknown route. */
  metricsEnabled: boolean;
  /** The bearer token GET /metrics asks for; null: none asked (open mode's Host check still applies). */
  metricsToken: string | null;
  /** How long a turn's streamed events stay readable (resume, re-attach) after the turn ended. */
  turnRetentionMs: number;
  /** The largest file POST /files takes (its body limit; other routes keep 1 MiB). */
  fileMaxBytes: number;
  /** What one user's stored files may add up to. */
  userStorageBytes: number;
  /** Files up to this size go to Gemini inline in each turn; larger ones through its Files API. */
  fileInlineMaxBytes: number;
}

type Env = Record<string, string | undefined>;

/** Every variable the service reads, with its default: `.env.example` mirrors this list. */
export const DEFAULTS = {
  PORT: '3000',
  HOST: '127.0.0.1',
  DATABASE_URL: 'sqlite:data/chat.db',
  GEMINI_MODEL: 'gemini-3.5-flash-lite',
  GEMINI_TIMEOUT_MS: '60000',
  GEMINI_MAX_OUTPUT_TOKENS: '8192',
  GEMINI_RETRIES: '2',
  MAX_MESSAGE_CHARS: '32000',
  LOG_FORMAT: 'text',
  RATE_LIMIT_PER_MINUTE: '60',
  DATABASE_POOL_SIZE: '10',
  LEASE_TTL_MS: '15000',
  REQUEST_BODY_TIMEOUT_MS: '30000',
  FILE_MAX_BYTES: String(20 * 1024 * 1024),
  USER_STORAGE_BYTES: String(1024 * 1024 * 1024),
  FILE_INLINE_MAX_BYTES: String(4 * 1024 * 1024),
  TURN_RETENTION_SECONDS: '900',
} as const;

function value(env: Env, name: keyof typeof DEFAULTS): string {
  const raw = env[name]?.trim();
  return raw ? raw : DEFAULTS[name];
}

function optional(env: Env, name: string): string | null {
  const raw = env[name]?.trim();
  return raw ? raw : null;
}

function integer(env: Env, name: keyof typeof DEFAULTS, min: number, max: number): number {
  return wholeNumber(name, value(env, name), min, max);
}

function wholeNumber(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigValidationError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

export function parseDatabaseUrl(raw: string, cwd = process.cwd()): DatabaseSettings {
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new ConfigValidationError('DATABASE_URL', 'needs a path after "sqlite:"');
    if (path === ':memory:') return { kind: 'sqlite', path };
    return { kind: 'sqlite', path: isAbsolute(path) ? path : resolve(cwd, path) };
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    let url: URL | null = null;
    try {
      url = new URL(raw);
    } catch {
      // reported below
    }
    if (!url?.hostname) throw new ConfigValidationError('DATABASE_URL', 'is not a valid postgres://user:pass@host:port/db URL');
    return { kind: 'postgres', url: raw };
  }
  const scheme = raw.includes(':') ? raw.slice(0, raw.indexOf(':')) : raw;
  throw new ConfigValidationError('DATABASE_URL', `has unknown scheme "${scheme}" (use sqlite:<path>, sqlite::memory: or postgres://…)`);
}

function parseBaseUrl(raw: string | null): string | null {
  if (raw === null) return null;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigValidationError('GEMINI_BASE_URL', 'must be an http(s) URL');
  }
  return raw.replace(/\/+$/, '');
}

/** Validates the environment once; the only place that knows variable names. */
export function parseEnvironment(env: Env, cwd = process.cwd()): AppSettings {
  const apiKey = optional(env, 'GEMINI_API_KEY');
  const baseUrl = parseBaseUrl(optional(env, 'GEMINI_BASE_URL'));
  const model = value(env, 'GEMINI_MODEL').replace(/^models\//, '');
  if (model.length > 100 || !MODEL_ID_PATTERN.test(model)) {
    throw new ConfigValidationError('GEMINI_MODEL', `is not a model id: "${model}"`);
  }
  const logFormat = value(env, 'LOG_FORMAT');
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new ConfigValidationError('LOG_FORMAT', 'must be "text" or "json"');
  }
  const pricingFile = optional(env, 'PRICING_FILE');
  const rateLimitPerMinute = integer(env, 'RATE_LIMIT_PER_MINUTE', 1, 1_000_000);
  const estimatesPerMinute = optional(env, 'ESTIMATES_PER_MINUTE');
  return {
    port: integer(env, 'PORT', 0, 65535),
    host: value(env, 'HOST'),
    database: parseDatabaseUrl(value(env, 'DATABASE_URL'), cwd),
    gemini: {
      apiKey,
      baseUrl,
      model,
      timeoutMs: integer(env, 'GEMINI_TIMEOUT_MS', 1, 3_600_000),
      maxOutputTokens: integer(env, 'GEMINI_MAX_OUTPUT_TOKENS', 1, 1_000_000),
      retries: integer(env, 'GEMINI_RETRIES', 0, 10),
    },
    offline: apiKey === null && baseUrl === null,
    maxMessageChars: integer(env, 'MAX_MESSAGE_CHARS', 1, 1_000_000),
    pricingFile: pricingFile && (isAbsolute(pricingFile) ? pricingFile : resolve(cwd, pricingFile)),
    logFormat,
    adminApiKey: parseSecret('ADMIN_API_KEY', optional(env, 'ADMIN_API_KEY')),
    rateLimitPerMinute,
    // Unset: four times the turns, as the page estimates while a message is typed.
    estimatesPerMinute:
      estimatesPerMinute === null ? 4 * rateLimitPerMinute : wholeNumber('ESTIMATES_PER_MINUTE', estimatesPerMinute, 1, 4_000_000),
    userDailyBudgetNanoUsd: parseUsd('USER_DAILY_BUDGET_USD', optional(env, 'USER_DAILY_BUDGET_USD')),
    corsOrigins: parseOrigins(optional(env, 'CORS_ORIGINS')),
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 1, 1_000),
    leaseTtlMs: integer(env, 'LEASE_TTL_MS', 300, 600_000),
    requestBodyTimeoutMs: integer(env, 'REQUEST_BODY_TIMEOUT_MS', 100, 600_000),
    allowedHosts: parseAllowedHosts(optional(env, 'ALLOWED_HOSTS')),
    metricsEnabled: parseBoolean('METRICS_ENABLED', optional(env, 'METRICS_ENABLED')),
    metricsToken: parseSecret('METRICS_TOKEN', optional(env, 'METRICS_TOKEN')),
    // A file is read into memory whole (twice at most): 1 GiB is far past what Gemini takes inline or by the Files API.
    // 512 MiB at most: within SQLite's blob limit (1e9 bytes) and PostgreSQL's bytea limit (1 GB), with room for the copies a write makes.
    fileMaxBytes: integer(env, 'FILE_MAX_BYTES', 1, 512 * 1024 ** 2),
    userStorageBytes: integer(env, 'USER_STORAGE_BYTES', 1, Number.MAX_SAFE_INTEGER),
    // 0: every file through the Files API. At most 20 MiB, Gemini's documented limit on a whole request
    // (the inline files of one request stay under 14 MiB whatever this says: TurnMedia).
    fileInlineMaxBytes: integer(env, 'FILE_INLINE_MAX_BYTES', 0, 20 * 1024 * 1024),
    // 0: a finished turn is not resumable at all. At most a day: the events are a copy of the reply, kept for reconnects only.
    turnRetentionMs: integer(env, 'TURN_RETENTION_SECONDS', 0, 86_400) * 1000,
  };
}

function parseBoolean(variable: string, raw: string | null): boolean {
  if (raw === null || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new ConfigValidationError(variable, `must be "true" or "false", got "${raw}"`);
}

/** A key or token: long enough not to be guessed. */
function parseSecret(variable: string, raw: string | null): string | null {
  if (raw !== null && raw.length < 16) {
    throw new ConfigValidationError(variable, 'must be at least 16 characters long');
  }
  return raw;
}

/** Dollars with at most 9 decimals, kept as integer nano-dollars. */
export function parseUsd(variable: string, raw: string | null): number | null {
  if (raw === null) return null;
  const nano = /^\d{1,9}(?:\.\d{1,9})?$/.test(raw) ? usdToNano(raw) : null;
  if (nano === null) throw new ConfigValidationError(variable, `must be an amount in US dollars such as 5 or 0.25, got "${raw}"`);
  return nano;
}

function parseOrigins(raw: string | null): string[] {
  if (raw === null) return [];
  const origins = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of origins) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigValidationError('CORS_ORIGINS', `has "${origin}", which is not an origin such as https://app.example.com`);
    }
    if (url.origin !== origin) {
      throw new ConfigValidationError('CORS_ORIGINS', `has "${origin}", which is not an origin such as https://app.example.com`);
    }
  }
  return origins;
}

function parseAllowedHosts(raw: string | null): HostName[] {
  if (raw === null) return [];
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const host = parseHost(entry);
      if (!host) {
        throw new ConfigValidationError(
          'ALLOWED_HOSTS',
          `has "${entry}", which is not a host name such as chat.example.com or chat.example.com:8080`,
        );
      }
      return host;
    });
}

/** The settings of this process. */
export function readSettings(): AppSettings {
  return parseEnvironment(process.env);
}

/** Reads `.env` from the working directory when present; real environment variables win. */
export function loadDotEnv(path = resolve(process.cwd(), '.env')): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
