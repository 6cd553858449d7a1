import { ConfigValidationError, DEFAULTS, parseEnvironment, parseUsd } from './environment.js';

describe('parseEnvironment', () => {
  it('fills every default of the contract', () => {
    const settings = parseEnvironment({}, '/srv/app');
    expect(settings).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      database: { kind: 'sqlite', path: '/srv/app/data/chat.db' },
      gemini: { apiKey: null, baseUrl: null, model: 'gemini-3.5-flash-lite', timeoutMs: 60_000, maxOutputTokens: 8192, retries: 2 },
      offline: true,
      maxMessageChars: 32_000,
      pricingFile: null,
      adminApiKey: null,
      rateLimitPerMinute: 60,
      estimatesPerMinute: 240,
      userDailyBudgetNanoUsd: null,
      corsOrigins: [],
      metricsEnabled: false,
      metricsToken: null,
      fileMaxBytes: 20 * 1024 * 1024,
      userStorageBytes: 1024 * 1024 * 1024,
      fileInlineMaxBytes: 4 * 1024 * 1024,
      turnRetentionMs: 900_000,
    });
    expect(DEFAULTS.DATABASE_URL).toBe('sqlite:data/chat.db');
  });

  it.each([
    ['sqlite::memory:', { kind: 'sqlite', path: ':memory:' }],
    ['sqlite:/var/lib/chat.db', { kind: 'sqlite', path: '/var/lib/chat.db' }],
    ['sqlite:///var/lib/chat.db', { kind: 'sqlite', path: '/var/lib/chat.db' }],
    ['sqlite:data/other.db', { kind: 'sqlite', path: '/srv/app/data/other.db' }],
    ['postgres://u:p@db:5432/chat', { kind: 'postgres', url: 'postgres://u:p@db:5432/chat' }],
    ['postgresql://u@db/chat', { kind: 'postgres', url: 'postgresql://u@db/chat' }],
  ])('reads DATABASE_URL %s', (url, database) => {
    expect(parseEnvironment({ DATABASE_URL: url }, '/srv/app').database).toEqual(database);
  });

  it('gives estimates four times the turn limit unless ESTIMATES_PER_MINUTE says otherwise', () => {
    expect(parseEnvironment({ RATE_LIMIT_PER_MINUTE: '10' }).estimatesPerMinute).toBe(40);
    expect(parseEnvironment({ RATE_LIMIT_PER_MINUTE: '10', ESTIMATES_PER_MINUTE: '5' }).estimatesPerMinute).toBe(5);
  });

  it('leaves offline mode when a key or a base URL is given, and drops a trailing slash', () => {
    expect(parseEnvironment({ GEMINI_API_KEY: 'k' }).offline).toBe(false);
    const proxied = parseEnvironment({ GEMINI_BASE_URL: 'http://proxy:8080/' });
    expect(proxied).toMatchObject({ offline: false, gemini: { baseUrl: 'http://proxy:8080' } });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['DATABASE_URL', 'mysql://db/chat'],
    ['DATABASE_URL', 'sqlite:'],
    ['DATABASE_URL', 'postgres://'],
    ['GEMINI_BASE_URL', 'ftp://proxy'],
    ['GEMINI_MODEL', 'gemini 2.5'],
    ['GEMINI_MODEL', 'a..b'],
    ['GEMINI_TIMEOUT_MS', '0'],
    ['GEMINI_TIMEOUT_MS', '1.5'],
    ['GEMINI_RETRIES', '11'],
    ['MAX_MESSAGE_CHARS', 'lots'],
    ['LOG_FORMAT', 'xml'],
    ['ADMIN_API_KEY', 'short'],
    ['RATE_LIMIT_PER_MINUTE', '0'],
    ['ESTIMATES_PER_MINUTE', '0'],
    ['ESTIMATES_PER_MINUTE', 'many'],
    ['USER_DAILY_BUDGET_USD', '-5'],
    ['USER_DAILY_BUDGET_USD', '1e3'],
    ['CORS_ORIGINS', 'https://app.example.com/path'],
    ['CORS_ORIGINS', 'not a url'],
    ['ALLOWED_HOSTS', 'https://chat.example.com'],
    ['ALLOWED_HOSTS', 'chat.example.com/path'],
    ['ALLOWED_HOSTS', 'chat.example.com:99999'],
    ['ALLOWED_HOSTS', 'user@chat.example.com'],
    ['ALLOWED_HOSTS', '*'],
    ['FILE_MAX_BYTES', '0'],
    ['FILE_MAX_BYTES', '20MiB'],
    ['FILE_MAX_BYTES', String(512 * 1024 ** 2 + 1)],
    ['USER_STORAGE_BYTES', '-1'],
  ])('stops on %s=%s with one line naming the variable', (variable, value) => {
    const parse = () => parseEnvironment({ [variable]: value });
    expect(parse).toThrow(ConfigValidationError);
    expect(parse).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
    try {
      parse();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('strips a models/ prefix from GEMINI_MODEL', () => {
    expect(parseEnvironment({ GEMINI_MODEL: 'models/gemini-2.5-pro' }).gemini.model).toBe('gemini-2.5-pro');
  });

  it('splits CORS_ORIGINS', () => {
    expect(parseEnvironment({ CORS_ORIGINS: 'https://a.example.com, http://localhost:5173' }).corsOrigins).toEqual([
      'https://a.example.com',
      'http://localhost:5173',
    ]);
  });

  it('reads ALLOWED_HOSTS as names, with a port when one is given', () => {
    expect(parseEnvironment({}).allowedHosts).toEqual([]);
    expect(parseEnvironment({ ALLOWED_HOSTS: 'Chat.Example.com, 10.0.0.5:3000,,[::1]:8080' }).allowedHosts).toEqual([
      { name: 'chat.example.com', port: null },
      { name: '10.0.0.5', port: 3000 },
      { name: '[::1]', port: 8080 },
    ]);
  });

  it('turns metrics on with METRICS_ENABLED=true, behind a METRICS_TOKEN of 16 characters or more', () => {
    expect(parseEnvironment({ METRICS_ENABLED: 'true', METRICS_TOKEN: 'a-scraper-token-16' })).toMatchObject({
      metricsEnabled: true,
      metricsToken: 'a-scraper-token-16',
    });
    expect(parseEnvironment({ METRICS_ENABLED: 'false' }).metricsEnabled).toBe(false);
    expect(() => parseEnvironment({ METRICS_ENABLED: 'yes' })).toThrow('METRICS_ENABLED must be "true" or "false", got "yes"');
    expect(() => parseEnvironment({ METRICS_TOKEN: 'short' })).toThrow('METRICS_TOKEN must be at least 16 characters long');
  });
});

describe('parseUsd', () => {
  it.each([
    ['5', 5_000_000_000],
    ['0.25', 250_000_000],
    ['0.000000001', 1],
    ['12.5', 12_500_000_000],
  ])('reads %s dollars as %d nano-dollars, exactly', (text, nano) => {
    expect(parseUsd('X', text)).toBe(nano);
  });

  it('refuses more than nine decimals', () => {
    expect(() => parseUsd('USER_DAILY_BUDGET_USD', '0.0000000001')).toThrow(/USER_DAILY_BUDGET_USD/);
  });
});
