import type { TokenUsage } from '../core/token-usage.js';

export interface LlmTurn {
  role: 'user' | 'model';
  text: string;
}

export interface LlmRequest {
  model: string;
  /** The whole conversation, oldest first, ending with the new user message. */
  contents: LlmTurn[];
  systemInstruction: string | null;
}

export interface LlmResult {
  text: string;
  /** Null when Gemini's usageMetadata was not made of non-negative safe integers: nothing to price. */
  usage: TokenUsage | null;
  finishReason: string | null;
  /** The model that answered, as Gemini names it (`modelVersion`), when it says. */
  modelVersion: string | null;
}

export type LlmMode = 'emulator' | 'configured';

/**
 * The port feature code talks to. Implementations throw only DomainErrors:
 * UpstreamRateLimited, UpstreamTimeout, UpstreamError, ContentBlocked, and ContextTooLong
 * (`reason: 'gemini'`) when Gemini refused a prompt over the model's input limit.
 */
export abstract class LlmClient {
  abstract readonly mode: LlmMode;
  abstract generate(request: LlmRequest): Promise<LlmResult>;
  /**
   * Streams the reply: `onDelta` gets each piece of answer text as it arrives; the result is
   * the whole reply with the usage of the last chunk that carried usage.
   */
  abstract stream(request: LlmRequest, onDelta: (text: string) => void): Promise<LlmResult>;
  /** The prompt tokens of the request, as Gemini counts them (countTokens: free, nothing generated). */
  abstract countTokens(request: LlmRequest): Promise<number>;
}
