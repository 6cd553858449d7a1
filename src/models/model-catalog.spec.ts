import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from '../config/environment.js';
import { describeNotice, ModelCatalog } from './model-catalog.js';
import { pricesAt } from './model-table.js';

const bundled = new ModelCatalog({ pricingFile: null });
const dir = mkdtempSync(join(tmpdir(), 'models-'));

function catalogOf(models: object[], header: object = { read: '2026-12-02' }): ModelCatalog {
  const file = join(dir, `table-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ ...header, models }));
  return new ModelCatalog({ pricingFile: file });
}

const RATES = {
  input_per_million_usd: 1,
  input_audio_per_million_usd: 1,
  output_per_million_usd: 2,
  cached_input_per_million_usd: 0.1,
  cached_input_audio_per_million_usd: 0.1,
};

describe(ModelCatalog.name, () => {
  describe('the bundled table', () => {
    it('has every model with its limits and lifecycle, retired ones included, and the date it was read', () => {
      expect(bundled.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const models = bundled.entries().map((entry) => entry.model);
      expect(models).toEqual(
        expect.arrayContaining(['gemini-3.5-flash-lite', 'gemini-3.8-flash', 'gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash']),
      );
      for (const entry of bundled.entries()) {
        expect(entry.input_token_limit).toEqual(expect.any(Number));
        expect(entry.output_token_limit).toEqual(expect.any(Number));
        expect(entry.sources.length).toBeGreaterThan(0);
        if (entry.status === 'retired') expect(entry.shutdown_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      }
      expect(bundled.find('gemini-2.0-flash')).toMatchObject({ status: 'retired', shutdown_date: '2026-06-01', output_token_limit: 8192 });
    });

    it('serves the default GEMINI_MODEL on the day the table was read', () => {
      const entry = bundled.find('gemini-3.5-flash-lite');
      expect(entry?.status).toBe('stable');
      expect(bundled.noticeFor('gemini-3.5-flash-lite', new Date(`${bundled.read}T12:00:00Z`))).toBeNull();
    });

    it('names a replacement for every retired model that Google named one for', () => {
      expect(bundled.find('gemini-2.5-flash')).toMatchObject({ status: 'retired', replacement: 'gemini-3.5-flash-lite' });
    });
  });

  describe('find', () => {
    it('finds a model by its id, with a models/ prefix, or by its family for a -001 version', () => {
      expect(bundled.find('models/gemini-2.5-pro')?.model).toBe('gemini-2.5-pro');
      expect(bundled.find('gemini-2.0-flash-001')?.model).toBe('gemini-2.0-flash');
      expect(bundled.find('gemini-9-unknown')).toBeUndefined();
    });
  });

  describe('contextLimit', () => {
    it("is the session's own limit within the model's", () => {
      expect(bundled.contextLimit('gemini-3.5-flash-lite', null)).toBe(1_048_576);
      expect(bundled.contextLimit('gemini-3.5-flash-lite', 8_000)).toBe(8_000);
      expect(bundled.contextLimit('gemini-3.5-flash-lite', 5_000_000)).toBe(1_048_576);
      expect(bundled.contextLimit('gemini-9-unknown', null)).toBeNull();
      expect(bundled.contextLimit('gemini-9-unknown', 8_000)).toBe(8_000);
    });
  });

  describe('noticeFor', () => {
    const catalog = catalogOf([
      { model: 'soon', ...RATES, status: 'deprecated', shutdown_date: '2026-12-20', replacement: 'next' },
      { model: 'later', ...RATES, status: 'deprecated', shutdown_date: '2027-05-07' },
      { model: 'gone', ...RATES, status: 'retired', shutdown_date: '2026-06-01', replacement: 'next' },
      { model: 'passed', ...RATES, status: 'deprecated', shutdown_date: '2026-12-01' },
      { model: 'next', ...RATES },
    ]);
    const today = new Date('2026-12-02T10:00:00Z');

    it.each([
      ['a shutdown within 30 days', 'soon', { model: 'soon', status: 'deprecated', shutdownDate: '2026-12-20', replacement: 'next' }],
      ['a retired model', 'gone', { model: 'gone', status: 'retired', shutdownDate: '2026-06-01', replacement: 'next' }],
      ['a shutdown date that has come', 'passed', { model: 'passed', status: 'retired', shutdownDate: '2026-12-01', replacement: null }],
      ['a shutdown months away', 'later', null],
      ['a served model', 'next', null],
      ['a model not in the table', 'unknown', null],
    ])('%s', (_name, model, expected) => {
      expect(catalog.noticeFor(model, today)).toEqual(expected);
    });

    it('is said in one line', () => {
      expect(describeNotice(catalog.noticeFor('soon', today)!)).toBe(
        'soon is deprecated (shutdown 2026-12-20); Google names next in its place',
      );
    });
  });

  describe('PRICING_FILE', () => {
    it('takes a file of the older shape: rates only, every model stable with unknown limits', () => {
      const catalog = catalogOf([{ model: 'old', ...RATES, long_context: null }], {
        source: 'https://example.test/prices',
        retrieved: '2026-11-22',
      });
      expect(catalog.read).toBe('2026-11-22');
      expect(catalog.find('old')).toMatchObject({
        status: 'stable',
        input_token_limit: null,
        shutdown_date: null,
        price_changes: [],
        sources: [{ url: 'https://example.test/prices' }],
      });
    });

    it.each([
      ['a status that is not one', [{ model: 'm', ...RATES, status: 'gone' }], /status must be one of/],
      ['a limit that is not a count', [{ model: 'm', ...RATES, input_token_limit: 1.5 }], /input_token_limit/],
      ['a shutdown date that is not a date', [{ model: 'm', ...RATES, shutdown_date: '2026-13-01' }], /shutdown_date/],
      ['no output rate', [{ model: 'm', ...RATES, output_per_million_usd: null }], /output_per_million_usd/],
      [
        'price changes out of order',
        [
          {
            model: 'm',
            ...RATES,
            price_changes: [
              { from: '2027-01-01', ...RATES },
              { from: '2026-12-01', ...RATES },
            ],
          },
        ],
        /price_changes\[1\]: from must be/,
      ],
    ])('refuses %s, naming PRICING_FILE and the entry', (_name, models, message) => {
      expect(() => catalogOf(models)).toThrow(ConfigValidationError);
      expect(() => catalogOf(models)).toThrow(message);
    });
  });
});

describe('pricesAt', () => {
  const entry = bundled.find('gemini-3.8-flash')!;

  it('applies a price change from its UTC date on', () => {
    expect(entry.price_changes[0]).toMatchObject({ from: '2027-01-01' });
    expect(pricesAt(entry, new Date('2026-12-31T23:59:59.999Z'))).toMatchObject({
      input_per_million_usd: 0.75,
      output_per_million_usd: 3.75,
    });
    expect(pricesAt(entry, new Date('2027-01-01T00:00:00.000Z'))).toMatchObject({
      input_per_million_usd: 1.5,
      output_per_million_usd: 7.5,
    });
  });

  it('gives rates only, not the change itself', () => {
    expect(Object.keys(pricesAt(entry, new Date('2027-06-01T00:00:00Z'))).sort()).toEqual([
      'cached_input_audio_per_million_usd',
      'cached_input_per_million_usd',
      'input_audio_per_million_usd',
      'input_per_million_usd',
      'long_context',
      'output_per_million_usd',
    ]);
  });
});
