import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

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
}

type Env = Record<string, string | undefined>;

/** Every variable the service reads, with its default: `.env.example` mirrors this list. */
export const DEFAULTS = {
  PORT: '3000',
  HOST: '127.0.0.1',
  DATABASE_URL: 'sqlite:data/chat.db',
  GEMINI_MODEL: 'gemini-2.5-flash',
  GEMINI_TIMEOUT_MS: '60000',
  GEMINI_MAX_OUTPUT_TOKENS: '8192',
  MAX_MESSAGE_CHARS: '32000',
  LOG_FORMAT: 'text',
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
  const raw = value(env, name);
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
    try {
      new URL(raw);
    } catch {
      throw new ConfigValidationError('DATABASE_URL', 'is not a valid postgres:// URL');
    }
    return { kind: 'postgres', url: raw };
  }
  const scheme = raw.includes(':') ? raw.slice(0, raw.indexOf(':')) : raw;
  throw new ConfigValidationError(
    'DATABASE_URL',
    `has unknown scheme "${scheme}" (use sqlite:<path>, sqlite::memory: or postgres://…)`,
  );
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
  if (!/^[\w.-]+$/.test(model)) {
    throw new ConfigValidationError('GEMINI_MODEL', `is not a model id: "${model}"`);
  }
  const logFormat = value(env, 'LOG_FORMAT');
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new ConfigValidationError('LOG_FORMAT', 'must be "text" or "json"');
  }
  const pricingFile = optional(env, 'PRICING_FILE');
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
    },
    offline: apiKey === null && baseUrl === null,
    maxMessageChars: integer(env, 'MAX_MESSAGE_CHARS', 1, 1_000_000),
    pricingFile: pricingFile && (isAbsolute(pricingFile) ? pricingFile : resolve(cwd, pricingFile)),
    logFormat,
  };
}

/** The settings of this process. */
export function readSettings(): AppSettings {
  return parseEnvironment(process.env);
}

/** Reads `.env` from the working directory when present; real environment variables win. */
export function loadDotEnv(path = resolve(process.cwd(), '.env')): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
