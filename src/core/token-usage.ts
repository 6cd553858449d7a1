/**
 * The token classes Gemini reports for one call: the one definition that the stored columns,
 * the SQL sums, the JSON of every message and report, and the Markdown export derive from.
 * A new class is one entry here (and a migration adding its column).
 *
 * `name` is the column and the JSON field alike; `key` is the name in code.
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
  { key: 'totalTokens', name: 'total_tokens', label: 'total', description: 'Everything Gemini counted for the call (totalTokenCount).' },
] as const;

export type TokenClass = (typeof TOKEN_CLASSES)[number];
export type TokenKey = TokenClass['key'];
export type TokenName = TokenClass['name'];

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
