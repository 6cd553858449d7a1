/** Token counts of one upstream call, as Gemini reports them (absent fields are 0). */
export interface TokenUsage {
  /** All prompt tokens, cached ones included (Gemini's promptTokenCount). */
  promptTokens: number;
  /** Prompt tokens served from the context cache, explicit or implicit. */
  cachedTokens: number;
  /** Answer tokens, thinking excluded (candidatesTokenCount). */
  outputTokens: number;
  thoughtsTokens: number;
  toolPromptTokens: number;
  totalTokens: number;
  /** Audio-modality share of promptTokens, and of cachedTokens. */
  audioPromptTokens: number;
  audioCachedTokens: number;
}

export const ZERO_USAGE: TokenUsage = {
  promptTokens: 0,
  cachedTokens: 0,
  outputTokens: 0,
  thoughtsTokens: 0,
  toolPromptTokens: 0,
  totalTokens: 0,
  audioPromptTokens: 0,
  audioCachedTokens: 0,
};
