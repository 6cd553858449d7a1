import type { GenerateContentResponse } from '@google/genai';
import { DomainError, ErrorCode } from '../common/errors.js';
import { ZERO_USAGE } from '../core/token-usage.js';
import { answerText, boundedFetch, modelIdOf, refusalOf, ReplyTooLarge, resultOf, toTokenUsage } from './upstream-reply.js';

const response = (body: object) => body as GenerateContentResponse;
const usageMetadata = { promptTokenCount: 10, candidatesTokenCount: 0, thoughtsTokenCount: 90, totalTokenCount: 100 };

describe(refusalOf.name, () => {
  it('names a blocked prompt as CONTENT_BLOCKED with the reason', () => {
    const blocked = response({ promptFeedback: { blockReason: 'SAFETY' } });
    expect(refusalOf(answerText(blocked), blocked)).toEqual(
      expect.objectContaining({ code: ErrorCode.CONTENT_BLOCKED, message: expect.stringContaining('SAFETY') }),
    );
  });

  it('names an empty reply as CONTENT_BLOCKED, naming the finish reason', () => {
    const empty = response({ candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'MAX_TOKENS' }] });
    expect(refusalOf(answerText(empty), empty)).toEqual(
      expect.objectContaining({ code: ErrorCode.CONTENT_BLOCKED, message: expect.stringContaining('MAX_TOKENS') }),
    );
  });

  it('names a reply that holds only thinking', () => {
    const thoughtsOnly = response({
      candidates: [{ content: { role: 'model', parts: [{ text: 'pondering', thought: true }] }, finishReason: 'MAX_TOKENS' }],
    });
    expect(answerText(thoughtsOnly)).toBe('');
    expect(refusalOf(answerText(thoughtsOnly), thoughtsOnly)).toBeInstanceOf(DomainError);
  });

  it('has nothing to say of a reply with text, skipping thought parts', () => {
    const answered = response({
      candidates: [
        { content: { role: 'model', parts: [{ text: 'hmm', thought: true }, { text: 'Paris' }, { text: '.' }] }, finishReason: 'STOP' },
      ],
    });
    expect(answerText(answered)).toBe('Paris.');
    expect(refusalOf('Paris.', answered)).toBeNull();
  });
});

describe('toTokenUsage', () => {
  it('reads valid counts, audio shares included', () => {
    expect(
      toTokenUsage({ promptTokenCount: 10, candidatesTokenCount: 5, promptTokensDetails: [{ modality: 'AUDIO' as never, tokenCount: 4 }] }),
    ).toMatchObject({
      promptTokens: 10,
      outputTokens: 5,
      totalTokens: 15,
      audioPromptTokens: 4,
    });
  });

  it.each([
    ['a string', '7'],
    ['a huge number', 1e308],
    ['infinity', Infinity],
    ['a negative count', -1],
    ['a fraction', 1.5],
    ['an unsafe integer', 2 ** 53 + 1],
    ['an object', { n: 1 }],
  ])('refuses usage with %s for a count: nothing to store, sum or price', (_name, value) => {
    expect(toTokenUsage({ promptTokenCount: 10, candidatesTokenCount: value as never })).toBeNull();
    expect(toTokenUsage({ promptTokenCount: 10, totalTokenCount: value as never })).toBeNull();
    expect(
      toTokenUsage({ promptTokenCount: 10, promptTokensDetails: [{ modality: 'AUDIO' as never, tokenCount: value as never }] }),
    ).toBeNull();
  });

  it('reads every modality of promptTokensDetails and cacheTokensDetails; text is the rest of the count', () => {
    const details = (entries: [string, number][]) => entries.map(([modality, tokenCount]) => ({ modality: modality as never, tokenCount }));
    expect(
      toTokenUsage({
        promptTokenCount: 2_000,
        cachedContentTokenCount: 800,
        candidatesTokenCount: 5,
        promptTokensDetails: details([
          ['TEXT', 100],
          ['IMAGE', 516],
          ['IMAGE', 258],
          ['DOCUMENT', 774],
          ['AUDIO', 96],
          ['VIDEO', 256],
        ]),
        cacheTokensDetails: details([
          ['IMAGE', 258],
          ['DOCUMENT', 516],
          ['AUDIO', 26],
        ]),
      }),
    ).toEqual({
      ...ZERO_USAGE,
      promptTokens: 2_000,
      cachedTokens: 800,
      outputTokens: 5,
      totalTokens: 2_005,
      imagePromptTokens: 774,
      documentPromptTokens: 774,
      audioPromptTokens: 96,
      videoPromptTokens: 256,
      imageCachedTokens: 258,
      documentCachedTokens: 516,
      audioCachedTokens: 26,
    });
  });

  it('stores details that add up past their count as shares of it, audio first: every stored split adds up', () => {
    const usage = toTokenUsage({
      promptTokenCount: 1_000,
      cachedContentTokenCount: 100,
      promptTokensDetails: [
        { modality: 'IMAGE' as never, tokenCount: 900 },
        { modality: 'AUDIO' as never, tokenCount: 300 },
      ],
      cacheTokensDetails: [{ modality: 'DOCUMENT' as never, tokenCount: 400 }],
    });
    expect(usage).toMatchObject({ promptTokens: 1_000, audioPromptTokens: 300, imagePromptTokens: 700, documentCachedTokens: 100 });
  });

  it('leaves entries of an unknown modality in text, and reads no list that is not one', () => {
    expect(
      toTokenUsage({
        promptTokenCount: 50,
        promptTokensDetails: [
          { modality: 'HOLOGRAM' as never, tokenCount: 40 },
          { modality: 'image' as never, tokenCount: 10 },
          null as never,
        ],
        cacheTokensDetails: { modality: 'AUDIO' } as never,
      }),
    ).toEqual({ ...ZERO_USAGE, promptTokens: 50, totalTokens: 50 });
  });

  it.each(['TEXT', 'IMAGE', 'VIDEO', 'DOCUMENT', 'AUDIO'])('refuses usage whose %s detail is not a count', (modality) => {
    for (const field of ['promptTokensDetails', 'cacheTokensDetails']) {
      expect(toTokenUsage({ promptTokenCount: 10, [field]: [{ modality, tokenCount: -3 }] })).toBeNull();
      expect(toTokenUsage({ promptTokenCount: 10, [field]: [{ modality, tokenCount: '3' }] })).toBeNull();
    }
  });

  it('refuses details of one modality that add up past 2^53', () => {
    const huge = { modality: 'IMAGE' as never, tokenCount: Number.MAX_SAFE_INTEGER };
    expect(toTokenUsage({ promptTokenCount: 10, promptTokensDetails: [huge, huge] })).toBeNull();
  });

  it('refuses counts that are each valid but add up past 2^53', () => {
    expect(toTokenUsage({ promptTokenCount: Number.MAX_SAFE_INTEGER, candidatesTokenCount: 10 })).toBeNull();
  });
});

describe(resultOf.name, () => {
  it('resolves a reply with usage and no text as a paid call whose failure is CONTENT_BLOCKED', () => {
    const thinkingOnly = response({ candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'MAX_TOKENS' }], usageMetadata });
    const result = resultOf([thinkingOnly]);
    expect(result.failure).toMatchObject({ code: ErrorCode.CONTENT_BLOCKED });
    expect(result.usage).toMatchObject({ thoughtsTokens: 90, totalTokens: 100 });
    expect(result.complete).toBe(true);
  });

  it('names a reply that is only a function call', () => {
    const call = response({
      candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] } }],
      usageMetadata,
    });
    expect(resultOf([call]).failure?.message).toMatch(/function call/);
  });

  it('throws a refusal Gemini reported no usage for: nothing was billed', () => {
    expect(() => resultOf([response({ promptFeedback: { blockReason: 'SAFETY' } })])).toThrow(
      expect.objectContaining({ code: ErrorCode.CONTENT_BLOCKED }),
    );
  });

  it('keeps the last usage of a stream that ended badly, marked incomplete', () => {
    const chunk = (text: string, total: number) =>
      response({
        candidates: [{ content: { role: 'model', parts: [{ text }] } }],
        usageMetadata: { ...usageMetadata, totalTokenCount: total },
      });
    const failure = new DomainError(ErrorCode.UPSTREAM_ERROR, 'broke');
    const result = resultOf([chunk('a', 101), chunk('b', 102)], { failure, paid: false });
    expect(result).toMatchObject({ text: 'ab', failure, complete: false, usage: expect.objectContaining({ totalTokens: 102 }) });
  });

  it('resolves a reply cut off for size as paid, with no usage', () => {
    const failure = new DomainError(ErrorCode.UPSTREAM_ERROR, 'too large');
    expect(resultOf([], { failure, paid: true })).toMatchObject({ usage: null, failure, complete: false });
  });

  it.each([
    ['an object', { evil: true }],
    ['a long string', `gemini-${'x'.repeat(100)}`],
    ['control characters', 'gemini-2.5-flash\u001b[31m\nFORGED'],
    ['spaces', 'gemini 2.5 flash'],
  ])('drops a modelVersion that is %s, and says so', (_name, modelVersion) => {
    const result = resultOf([
      response({ candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] } }], usageMetadata, modelVersion }),
    ]);
    expect(result.modelVersion).toBeNull();
    expect(result.modelVersionRejected).toBe(true);
  });

  it('keeps a plausible modelVersion, without its models/ prefix', () => {
    expect(modelIdOf('models/gemini-3.8-flash-preview-09-2026')).toBe('gemini-3.8-flash-preview-09-2026');
  });

  it('replaces U+0000 in reply text, so the reply stores alike on every database', () => {
    expect(answerText(response({ candidates: [{ content: { role: 'model', parts: [{ text: 'a\u0000b' }] } }] }))).toBe('a\uFFFDb');
  });
});

describe(boundedFetch.name, () => {
  const replyOf = (bytes: number) => async () => new Response(new Uint8Array(bytes));

  it('passes a reply within the bound through whole', async () => {
    const response = await boundedFetch(1000, replyOf(1000))('http://gemini.test');
    expect((await response.arrayBuffer()).byteLength).toBe(1000);
  });

  it('errors a reply past the bound instead of reading it', async () => {
    const response = await boundedFetch(1000, replyOf(5000))('http://gemini.test');
    await expect(response.arrayBuffer()).rejects.toBeInstanceOf(ReplyTooLarge);
  });
});
