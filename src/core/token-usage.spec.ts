import { MODALITIES } from './modality.js';
import {
  cachedByModality,
  FLAT_TOKEN_CLASSES,
  promptByModality,
  splitByModality,
  TOKEN_CLASSES,
  usageToJson,
  ZERO_USAGE,
} from './token-usage.js';
import type { ByModality } from './token-usage.js';

const sum = (split: ByModality) => MODALITIES.reduce((total, modality) => total + split[modality], 0);

describe(splitByModality.name, () => {
  it('takes each media share and leaves the rest of the count to text', () => {
    expect(splitByModality(1_000, { image: 258, audio: 320, video: 0, document: 100 })).toEqual({
      text: 322,
      image: 258,
      audio: 320,
      video: 0,
      document: 100,
    });
  });

  it('never splits more than the count: shares past it are taken audio first, then image, video, document', () => {
    // Gemini's details contradict its count: the split still adds up to the count, nothing negative.
    const split = splitByModality(500, { audio: 300, image: 150, video: 100, document: 80 });
    expect(split).toEqual({ text: 0, audio: 300, image: 150, video: 50, document: 0 });
    expect(sum(split)).toBe(500);
  });

  it('reads a missing or negative share as 0', () => {
    expect(splitByModality(10, {})).toEqual({ text: 10, image: 0, audio: 0, video: 0, document: 0 });
    expect(splitByModality(10, { image: -5 })).toEqual({ text: 10, image: 0, audio: 0, video: 0, document: 0 });
  });
});

describe('usage by modality', () => {
  const usage = {
    ...ZERO_USAGE,
    promptTokens: 3_000,
    cachedTokens: 1_000,
    imagePromptTokens: 1_200,
    documentPromptTokens: 900,
    audioPromptTokens: 300,
    videoPromptTokens: 100,
    imageCachedTokens: 700,
    documentCachedTokens: 200,
    audioCachedTokens: 50,
  };

  it('splits the prompt and the cached tokens, each adding up to its count', () => {
    expect(promptByModality(usage)).toEqual({ text: 500, image: 1_200, audio: 300, video: 100, document: 900 });
    expect(cachedByModality(usage)).toEqual({ text: 50, image: 700, audio: 50, video: 0, document: 200 });
    expect(sum(promptByModality(usage))).toBe(usage.promptTokens);
    expect(sum(cachedByModality(usage))).toBe(usage.cachedTokens);
  });

  it('shows the flat classes and the two splits in JSON, the media shares other than audio only inside the splits', () => {
    const json = usageToJson(usage);
    expect(json).toEqual({
      prompt_tokens: 3_000,
      cached_tokens: 1_000,
      output_tokens: 0,
      thoughts_tokens: 0,
      tool_prompt_tokens: 0,
      audio_prompt_tokens: 300,
      audio_cached_tokens: 50,
      total_tokens: 0,
      prompt_tokens_by_modality: { text: 500, image: 1_200, audio: 300, video: 100, document: 900 },
      cached_tokens_by_modality: { text: 50, image: 700, audio: 50, video: 0, document: 200 },
    });
    expect(Object.keys(json.prompt_tokens_by_modality)).toEqual([...MODALITIES]);
    // Every class is a column; only those not marked flat: false are fields.
    expect(TOKEN_CLASSES.length - FLAT_TOKEN_CLASSES.length).toBe(6);
  });

  it('reads a usage remembered before the media shares existed (an idempotent replay) as all text and audio', () => {
    const remembered = { promptTokens: 10, cachedTokens: 0, outputTokens: 2, audioPromptTokens: 4 } as unknown as typeof usage;
    expect(usageToJson(remembered).prompt_tokens_by_modality).toEqual({ text: 6, image: 0, audio: 4, video: 0, document: 0 });
    expect(usageToJson(remembered).cached_tokens_by_modality).toEqual({ text: 0, image: 0, audio: 0, video: 0, document: 0 });
  });
});
