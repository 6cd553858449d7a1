import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from '../config/environment.js';
import { toTokenUsage } from '../gemini/upstream-reply.js';
import { ModelCatalog } from '../models/model-catalog.js';
import { nanoToUsd } from '../core/money.js';
import { PricingService } from './pricing.service.js';
import { ZERO_USAGE } from '../core/token-usage.js';
import type { TokenUsage } from '../core/token-usage.js';

function pricing(pricingFile: string | null = null): PricingService {
  return new PricingService(new ModelCatalog({ pricingFile }));
}

function usage(overrides: Partial<TokenUsage>): TokenUsage {
  return { ...ZERO_USAGE, ...overrides };
}

// Rates in nano-dollars per token: USD per 1M tokens × 1000.
// gemini-2.5-flash: input 300, audio 1000, output 2500, cached 30, cached audio 100.
// gemini-2.5-pro ≤200k: input 1250, output 10000, cached 125; >200k: 2500, 15000, 250.
describe(PricingService.name, () => {
  const service = pricing();

  describe('cost', () => {
    it.each<[string, string, Partial<TokenUsage>, number]>([
      [
        'thinking tokens are billed at the output rate (Langfuse #16321, vercel/ai #6082)',
        'gemini-2.5-flash',
        { promptTokens: 20, outputTokens: 253, thoughtsTokens: 260, totalTokens: 533 },
        20 * 300 + (253 + 260) * 2500,
      ],
      [
        'cached tokens are billed once, at the cached rate (LiteLLM #14849, #27191)',
        'gemini-2.5-flash',
        { promptTokens: 10_000, cachedTokens: 8_000, outputTokens: 100 },
        2_000 * 300 + 8_000 * 30 + 100 * 2500,
      ],
      [
        'tool-use prompt tokens are billed at the input rate',
        'gemini-2.5-flash',
        { promptTokens: 100, toolPromptTokens: 50, outputTokens: 10 },
        150 * 300 + 10 * 2500,
      ],
      [
        'audio prompt tokens are billed at the audio rate',
        'gemini-2.5-flash',
        { promptTokens: 1_000, audioPromptTokens: 600, outputTokens: 10 },
        400 * 300 + 600 * 1000 + 10 * 2500,
      ],
      [
        'cached audio tokens are billed at the cached audio rate',
        'gemini-2.5-flash',
        { promptTokens: 1_000, cachedTokens: 500, audioPromptTokens: 600, audioCachedTokens: 200 },
        100 * 300 + 400 * 1000 + 300 * 30 + 200 * 100,
      ],
      [
        'a prompt of exactly 200k tokens stays on the base tier',
        'gemini-2.5-pro',
        { promptTokens: 200_000, outputTokens: 10 },
        200_000 * 1250 + 10 * 10_000,
      ],
      [
        'above 200k every class switches to the long-context rate (LiteLLM #9807)',
        'gemini-2.5-pro',
        { promptTokens: 250_000, cachedTokens: 100_000, outputTokens: 1_000, thoughtsTokens: 500, toolPromptTokens: 10 },
        150_000 * 2500 + 100_000 * 250 + 10 * 2500 + 1_500 * 15_000,
      ],
      [
        'the 200k threshold counts cached tokens too',
        'gemini-2.5-pro',
        { promptTokens: 200_001, cachedTokens: 150_000 },
        50_001 * 2500 + 150_000 * 250,
      ],
      ['no tokens cost nothing (a known price, not "unpriced")', 'gemini-2.5-flash', {}, 0],
      [
        'gemini-3.1-pro-preview long context',
        'gemini-3.1-pro-preview',
        { promptTokens: 300_000, outputTokens: 2_000 },
        300_000 * 4000 + 2_000 * 18_000,
      ],
    ])('%s', (_name, model, tokens, expectedNano) => {
      const cost = service.cost(model, model, usage(tokens));
      expect(cost).toEqual({ costNanoUsd: expectedNano, costStatus: 'priced', pricedAs: model });
      expect(Number.isInteger(cost.costNanoUsd)).toBe(true);
    });

    it('prices implicit-cache hits from raw usage metadata at the cached rate (LiteLLM #11156)', () => {
      // Implicit caching is reported only through cachedContentTokenCount; nothing else marks it.
      const tokens = toTokenUsage({
        promptTokenCount: 5_000,
        cachedContentTokenCount: 4_096,
        candidatesTokenCount: 50,
        totalTokenCount: 5_050,
      });
      expect(service.cost('gemini-2.5-pro', 'gemini-2.5-pro', tokens).costNanoUsd).toBe(904 * 1250 + 4_096 * 125 + 50 * 10_000);
    });

    it('prices counts that contradict each other as Google bills them: by class, each prompt token once, never negative', () => {
      // Cached beyond the prompt: the whole prompt at the cached rate, nothing more; a total that
      // is not the sum of the classes is stored as reported and never priced.
      const overCached = toTokenUsage({
        promptTokenCount: 1_000,
        cachedContentTokenCount: 1_500,
        candidatesTokenCount: 10,
        totalTokenCount: 3,
      });
      expect(service.cost('gemini-2.5-pro', 'gemini-2.5-pro', overCached).costNanoUsd).toBe(1_000 * 125 + 10 * 10_000);
      // Output beyond GEMINI_MAX_OUTPUT_TOKENS (8,192 by default) is what was billed: priced as reported.
      const overCap = toTokenUsage({ promptTokenCount: 10, candidatesTokenCount: 20_000 });
      expect(service.cost('gemini-2.5-pro', 'gemini-2.5-pro', overCap).costNanoUsd).toBe(10 * 1250 + 20_000 * 10_000);
    });

    it('reads audio shares from the modality details of the usage metadata', () => {
      const tokens = toTokenUsage({
        promptTokenCount: 1_000,
        cachedContentTokenCount: 500,
        promptTokensDetails: [
          { modality: 'TEXT' as never, tokenCount: 400 },
          { modality: 'AUDIO' as never, tokenCount: 600 },
        ],
        cacheTokensDetails: [{ modality: 'AUDIO' as never, tokenCount: 200 }],
      });
      expect(tokens).toMatchObject({ audioPromptTokens: 600, audioCachedTokens: 200 });
      expect(service.cost('gemini-2.5-flash', 'gemini-2.5-flash', tokens).costNanoUsd).toBe(459_000);
    });

    describe('per modality: audio at the audio rates, every other modality at the input rates', () => {
      const flash = (tokens: TokenUsage | null) => service.cost('gemini-2.5-flash', 'gemini-2.5-flash', tokens).costNanoUsd;

      it('bills image and document tokens at the input rate, never drops them (LiteLLM #14285, #24375: up to 99 % under-charged)', () => {
        const tokens = toTokenUsage({
          promptTokenCount: 10_000,
          candidatesTokenCount: 100,
          promptTokensDetails: [
            { modality: 'TEXT' as never, tokenCount: 200 },
            { modality: 'IMAGE' as never, tokenCount: 6_192 },
            { modality: 'DOCUMENT' as never, tokenCount: 3_608 },
          ],
        });
        expect(tokens).toMatchObject({ imagePromptTokens: 6_192, documentPromptTokens: 3_608 });
        // Every prompt token at 0.30 USD per 1M: the 200 text tokens alone would be 2 % of it.
        expect(flash(tokens)).toBe(10_000 * 300 + 100 * 2500);
      });

      it('bills video tokens at the input rate', () => {
        expect(flash(usage({ promptTokens: 5_260, videoPromptTokens: 5_260 }))).toBe(5_260 * 300);
      });

      it('bills cached image and document tokens at the cached rate, cached audio at the cached audio rate (lobehub #18647)', () => {
        const tokens = usage({
          promptTokens: 10_000,
          imagePromptTokens: 5_000,
          documentPromptTokens: 2_000,
          audioPromptTokens: 3_000,
          cachedTokens: 4_000,
          imageCachedTokens: 2_000,
          documentCachedTokens: 1_000,
          audioCachedTokens: 1_000,
        });
        // Fresh: 6,000 of which 2,000 audio (3,000 − 1,000 cached); cached: 3,000 non-audio, 1,000 audio.
        expect(flash(tokens)).toBe(4_000 * 300 + 2_000 * 1000 + 3_000 * 30 + 1_000 * 100);
        // Cached audio priced as cached text would be 70 nano-dollars less a token: not so.
        expect(flash(tokens)).not.toBe(4_000 * 300 + 2_000 * 1000 + 4_000 * 30);
      });

      it('bills each prompt token once when the audio share is larger than what is left uncached', () => {
        // 800 of 1,000 cached (Gemini says nothing of their modality): at most 200 audio tokens are fresh.
        expect(flash(usage({ promptTokens: 1_000, cachedTokens: 800, audioPromptTokens: 600 }))).toBe(200 * 1000 + 800 * 30);
      });

      it('prices details that add up past the prompt as the prompt, audio first', () => {
        const tokens = toTokenUsage({
          promptTokenCount: 1_000,
          promptTokensDetails: [
            { modality: 'IMAGE' as never, tokenCount: 900 },
            { modality: 'AUDIO' as never, tokenCount: 300 },
          ],
        });
        expect(flash(tokens)).toBe(700 * 300 + 300 * 1000);
      });
    });

    it('reports an unknown model as unpriced with a null cost, never $0 (LiteLLM #6133)', () => {
      expect(service.cost('gemini-9-ultra', 'gemini-9-ultra', usage({ promptTokens: 10, outputTokens: 10 }))).toEqual({
        costNanoUsd: null,
        costStatus: 'unpriced',
        pricedAs: null,
      });
    });

    it('prices the model that answered before the one requested', () => {
      const cost = service.cost('models/gemini-2.5-pro', 'gemini-2.5-flash', usage({ promptTokens: 1_000 }));
      expect(cost).toEqual({ costNanoUsd: 1_000 * 1250, costStatus: 'priced', pricedAs: 'gemini-2.5-pro' });
    });

    it('prices a versioned model id like its family', () => {
      expect(service.cost('gemini-2.0-flash-001', 'gemini-2.0-flash-001', usage({ promptTokens: 1_000 })).pricedAs).toBe(
        'gemini-2.0-flash',
      );
    });

    describe('says what the price rests on', () => {
      it.each<[string, string | null, string, { costNanoUsd: number | null; costStatus: string; pricedAs: string | null }]>([
        [
          'priced: the answering model has rates of its own',
          'gemini-2.5-pro',
          'gemini-2.5-flash',
          { costNanoUsd: 4 * 10_000, costStatus: 'priced', pricedAs: 'gemini-2.5-pro' },
        ],
        [
          'priced: Gemini did not name the answering model, so it is the requested one',
          null,
          'gemini-2.5-flash',
          { costNanoUsd: 4 * 2500, costStatus: 'priced', pricedAs: 'gemini-2.5-flash' },
        ],
        [
          "estimated: rerouted to a model without a price, priced at the requested one's rates",
          'gemini-9-rerouted',
          'gemini-2.5-flash',
          { costNanoUsd: 4 * 2500, costStatus: 'estimated', pricedAs: 'gemini-2.5-flash' },
        ],
        [
          'unpriced: neither model has a price',
          'gemini-9-rerouted',
          'gemini-9-requested',
          { costNanoUsd: null, costStatus: 'unpriced', pricedAs: null },
        ],
      ])('%s', (_name, answering, requested, expected) => {
        expect(service.cost(answering, requested, usage({ outputTokens: 4 }))).toEqual(expected);
      });

      it('unpriced: usage that was not valid counts has no price, whatever the model', () => {
        expect(service.cost('gemini-2.5-flash', 'gemini-2.5-flash', null)).toEqual({
          costNanoUsd: null,
          costStatus: 'unpriced',
          pricedAs: null,
        });
      });
    });

    it('prices a call at the rates in force when it was made (a dated price change)', () => {
      // gemini-3.8-flash: $0.75 in / $3.75 out through 2026-12-31, $1.50 / $7.50 from 2027-01-01.
      const tokens = usage({ promptTokens: 1_000, outputTokens: 100 });
      expect(service.cost('gemini-3.8-flash', 'gemini-3.8-flash', tokens, new Date('2026-12-31T23:59:59Z')).costNanoUsd).toBe(
        1_000 * 750 + 100 * 3750,
      );
      expect(service.cost('gemini-3.8-flash', 'gemini-3.8-flash', tokens, new Date('2027-01-01T00:00:00Z')).costNanoUsd).toBe(
        1_000 * 1500 + 100 * 7500,
      );
    });

    it("falls back to the requested model's rates when the answering one lacks the rate a call needs", () => {
      // gemini-3.5-flash is rerouted to gemini-3.6-flash, which publishes no cached rate.
      const tokens = usage({ promptTokens: 1_000, cachedTokens: 500, outputTokens: 10 });
      expect(service.cost('gemini-3.6-flash', 'gemini-3.5-flash', tokens)).toEqual({
        costNanoUsd: 500 * 1500 + 500 * 150 + 10 * 9000,
        costStatus: 'estimated',
        pricedAs: 'gemini-3.5-flash',
      });
    });

    it('calls a turn unpriced when tokens of some class have no known rate, never $0 for them', () => {
      // gemini-3.6-flash: no cached rate is published.
      expect(service.cost('gemini-3.6-flash', 'gemini-3.6-flash', usage({ promptTokens: 1_000, outputTokens: 10 }))).toMatchObject({
        costStatus: 'priced',
        costNanoUsd: 1_000 * 750 + 10 * 3750,
      });
      expect(
        service.cost('gemini-3.6-flash', 'gemini-3.6-flash', usage({ promptTokens: 1_000, cachedTokens: 500, outputTokens: 10 })),
      ).toEqual({
        costNanoUsd: null,
        costStatus: 'unpriced',
        pricedAs: null,
      });
    });

    it('keeps totals exact: integer nano-dollars sum without float drift', () => {
      const turn = service.cost('gemini-2.5-flash', 'gemini-2.5-flash', usage({ promptTokens: 20, outputTokens: 513 }));
      expect(turn.costNanoUsd).toBe(1_288_500);
      const nanoTotal = Array.from({ length: 10 }, () => turn.costNanoUsd!).reduce((sum, nano) => sum + nano, 0);
      expect(nanoToUsd(nanoTotal)).toBe(0.012885);
      // Summing the same ten costs in dollars drifts: this is why nothing is summed in dollars.
      const floatTotal = Array.from({ length: 10 }, () => nanoToUsd(turn.costNanoUsd)!).reduce((sum, usd) => sum + usd, 0);
      expect(floatTotal).not.toBe(0.012885);
    });
  });

  describe('isPriced', () => {
    it('is true only for a model every turn of which can be priced: what can be budgeted', () => {
      expect(service.isPriced('gemini-3.5-flash-lite')).toBe(true);
      expect(service.isPriced('models/gemini-2.5-flash-001')).toBe(true);
      expect(service.isPriced('gemini-9-unknown')).toBe(false);
      // No published cached rate: a turn with cached tokens would cost an unknown amount.
      expect(service.isPriced('gemini-3.6-flash')).toBe(false);
    });
  });

  describe('PRICING_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));

    it('replaces the bundled table', () => {
      const file = join(dir, 'prices.json');
      writeFileSync(
        file,
        JSON.stringify({
          source: 'test',
          retrieved: '2026-11-22',
          models: [
            {
              model: 'gemini-2.5-flash',
              input_per_million_usd: 1,
              input_audio_per_million_usd: 1,
              output_per_million_usd: 4,
              cached_input_per_million_usd: 0.5,
              cached_input_audio_per_million_usd: 0.5,
              long_context: null,
            },
          ],
        }),
      );
      const custom = pricing(file);
      expect(custom.cost('gemini-2.5-flash', 'gemini-2.5-flash', usage({ promptTokens: 10, outputTokens: 10 })).costNanoUsd).toBe(
        10 * 1000 + 10 * 4000,
      );
      expect(custom.cost('gemini-2.5-pro', 'gemini-2.5-pro', usage({ promptTokens: 10 })).costStatus).toBe('unpriced');
    });

    it.each([
      ['not JSON', '{'],
      ['no models array', '{"models": 3}'],
      ['a negative rate', JSON.stringify({ models: [{ model: 'm', input_per_million_usd: -1 }] })],
    ])('refuses a file with %s, naming PRICING_FILE', (_name, text) => {
      const file = join(dir, 'bad.json');
      writeFileSync(file, text);
      expect(() => pricing(file)).toThrow(ConfigValidationError);
      expect(() => pricing(file)).toThrow(/^Invalid configuration: PRICING_FILE/);
    });
  });
});
