import type { Modality } from './modality.js';
/**
 * The token classes Gemini reports for one call: the one definition that the stored columns,
 * the SQL sums, the JSON of every message and report, and the Markdown export derive from.
 * A new class is one entry here (and a migration adding its column).
 *
 * `name` is the column and the JSON field alike; `key` is the name in code. A class marked
 * `flat: false` is a column and a sum like any other, but no flat JSON field: it is a media share
 * of the prompt or of the cached tokens, shown only inside `prompt_tokens_by_modality` and
 * `cached_tokens_by_modality` (see `usageToJson`). The audio shares predate those objects and
 * stay flat fields as well, for the clients that read them.
 */
export const TOKEN_CLASSES = [
  {
    key: 'promptTokens',
    name: 'prompt_tokens',
    label: 'prompt',
    description: 'All prompt tokens, cached ones included (promptTokenCount).',
  },
  {
    key: 'cachedTokens',
    name: 'cached_tokens',
    label: 'cached',
    description: 'Prompt tokens served from the context cache, explicit or implicit (billed at the cached rate).',
  },
  { key: 'outputTokens', name: 'output_tokens', label: 'output', description: 'Answer tokens, thinking excluded (candidatesTokenCount).' },
  { key: 'thoughtsTokens', name: 'thoughts_tokens', label: 'thinking', description: 'Thinking tokens (billed at the output rate).' },
  {
    key: 'toolPromptTokens',
    name: 'tool_prompt_tokens',
    label: 'tool prompt',
    description: 'Tool-use prompt tokens (billed at the input rate).',
  },
  {
    key: 'audioPromptTokens',
    name: 'audio_prompt_tokens',
    label: 'audio prompt',
    description: 'Audio share of prompt_tokens (billed at the audio input rate).',
  },
  {
    key: 'audioCachedTokens',
    name: 'audio_cached_tokens',
    label: 'audio cached',
    description: 'Audio share of cached_tokens (billed at the cached audio rate).',
  },
  {
    key: 'imagePromptTokens',
    name: 'image_prompt_tokens',
    label: 'image prompt',
    description: 'Image share of prompt_tokens.',
    flat: false,
  },
  {
    key: 'videoPromptTokens',
    name: 'video_prompt_tokens',
    label: 'video prompt',
    description: 'Video share of prompt_tokens.',
    flat: false,
  },
  {
    key: 'documentPromptTokens',
    name: 'document_prompt_tokens',
    label: 'document prompt',
    description: 'Document (PDF) share of prompt_tokens.',
    flat: false,
  },
  {
    key: 'imageCachedTokens',
    name: 'image_cached_tokens',
    label: 'image cached',
    description: 'Image share of cached_tokens.',
    flat: false,
  },
  {
    key: 'videoCachedTokens',
    name: 'video_cached_tokens',
    label: 'video cached',
    description: 'Video share of cached_tokens.',
    flat: false,
  },
  {
    key: 'documentCachedTokens',
    name: 'document_cached_tokens',
    label: 'document cached',
    description: 'Document (PDF) share of cached_tokens.',
    flat: false,
  },
  { key: 'totalTokens', name: 'total_tokens', label: 'total', description: 'Everything Gemini counted for the call (totalTokenCount).' },
] as const;

export type TokenClass = (typeof TOKEN_CLASSES)[number];
export type TokenKey = TokenClass['key'];
export type TokenName = TokenClass['name'];

/** The classes that are flat fields of a usage JSON object: all but the media shares marked `flat: false`. */
export type FlatTokenClass = Exclude<TokenClass, { flat: false }>;
export type FlatTokenName = FlatTokenClass['name'];
export const FLAT_TOKEN_CLASSES: readonly FlatTokenClass[] = TOKEN_CLASSES.filter((c): c is FlatTokenClass => !('flat' in c));

/** Token counts of one call, as Gemini reports them (absent fields are 0). */
export type TokenUsage = Record<TokenKey, number>;

/** The same counts under their column and JSON names. */
export type TokenCounts = Record<TokenName, number>;

export const ZERO_USAGE: TokenUsage = Object.freeze(Object.fromEntries(TOKEN_CLASSES.map(({ key }) => [key, 0])) as TokenUsage);

// These run for every message of a history read: plain loops, not Object.fromEntries (whose
// dictionary-mode objects are slower to build and to serialise).

export function usageToCounts(usage: TokenUsage): TokenCounts {
  const counts = {} as TokenCounts;
  for (const { key, name } of TOKEN_CLASSES) counts[name] = usage[key];
  return counts;
}

/** Reads counts from a row or JSON object keyed by name; missing or null counts are 0. */
export function countsToUsage(counts: Partial<Record<TokenName, number | string | null>>): TokenUsage {
  const usage = {} as TokenUsage;
  for (const { key, name } of TOKEN_CLASSES) usage[key] = Number(counts[name] ?? 0);
  return usage;
}

/** The modalities whose shares are kept (core/modality.ts); text is what is left of a count once they are taken. */
export type MediaModality = Exclude<Modality, 'text'>;

/** Tokens of one count (prompt or cached) by modality: they add up to that count. */
export type ByModality = Record<Modality, number>;

/**
 * The media modalities in the order their shares are taken from a count that cannot hold them all
 * (Gemini's details adding up to more than the count they detail): audio first, its rate being the
 * dearest, so a contradicting reply is never priced below what it says of audio.
 */
export const MEDIA_MODALITIES = ['audio', 'image', 'video', 'document'] as const satisfies readonly MediaModality[];

/** The class holding each media modality's share of the prompt, and of the cached tokens. */
export const MODALITY_SHARES = {
  prompt: { audio: 'audioPromptTokens', image: 'imagePromptTokens', video: 'videoPromptTokens', document: 'documentPromptTokens' },
  cached: { audio: 'audioCachedTokens', image: 'imageCachedTokens', video: 'videoCachedTokens', document: 'documentCachedTokens' },
} as const satisfies Record<'prompt' | 'cached', Record<MediaModality, TokenKey>>;

/**
 * The one split of a count by modality: each media share taken in MEDIA_MODALITIES order up to
 * what is left of `count`, text the rest. The parts are never negative and always add up to
 * `count`, whatever the shares say (a share missing, from a replay remembered before it existed, is 0).
 */
export function splitByModality(count: number, shares: Partial<Record<MediaModality, number>>): ByModality {
  let left = count;
  const take = (share: number | undefined): number => {
    const taken = Math.min(Math.max(0, share ?? 0), left);
    left -= taken;
    return taken;
  };
  const audio = take(shares.audio);
  const image = take(shares.image);
  const video = take(shares.video);
  const document = take(shares.document);
  return { text: left, image, audio, video, document };
}

function sharesOf(usage: TokenUsage, of: 'prompt' | 'cached'): Partial<Record<MediaModality, number>> {
  const classes = MODALITY_SHARES[of];
  return { audio: usage[classes.audio], image: usage[classes.image], video: usage[classes.video], document: usage[classes.document] };
}

/** `prompt_tokens_by_modality`: the prompt (cached tokens included) split by modality. */
export function promptByModality(usage: TokenUsage): ByModality {
  return splitByModality(usage.promptTokens, sharesOf(usage, 'prompt'));
}

/** `cached_tokens_by_modality`: the cached tokens, as reported, split by modality. */
export function cachedByModality(usage: TokenUsage): ByModality {
  return splitByModality(usage.cachedTokens, sharesOf(usage, 'cached'));
}

/** A usage as JSON (messages, /chat, refused calls' bodies, the usage report): the flat classes and the two splits. */
export type UsageJson = Record<FlatTokenName, number> & {
  prompt_tokens_by_modality: ByModality;
  cached_tokens_by_modality: ByModality;
};

export function usageToJson(usage: TokenUsage): UsageJson {
  const json = {} as UsageJson;
  for (const { key, name } of FLAT_TOKEN_CLASSES) json[name] = usage[key] ?? 0;
  json.prompt_tokens_by_modality = promptByModality(usage);
  json.cached_tokens_by_modality = cachedByModality(usage);
  return json;
}

/** The usage of a prompt of `tokens` tokens, `media` of them files' shares by modality (text is the rest): no output. */
export function promptUsage(tokens: number, media: Partial<ByModality> = {}): TokenUsage {
  return {
    ...ZERO_USAGE,
    promptTokens: tokens,
    audioPromptTokens: media.audio ?? 0,
    imagePromptTokens: media.image ?? 0,
    videoPromptTokens: media.video ?? 0,
    documentPromptTokens: media.document ?? 0,
    totalTokens: tokens,
  };
}
