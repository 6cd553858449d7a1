import { Inject, Injectable, Logger } from '@nestjs/common';
import { GoogleGenAI } from '@google/genai';
import type { GenerateContentParameters, GenerateContentResponse } from '@google/genai';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { LlmClient } from './llm-client.js';
import type { LlmMode, LlmRequest, LlmResult } from './llm-client.js';
import { GEMINI_ENDPOINT } from './gemini-endpoint.js';
import type { GeminiEndpoint } from './gemini-endpoint.js';
import { answerText, assertAnswered, toDomainError, toTokenUsage } from './upstream-errors.js';

/** The one place the Gemini SDK is constructed. */
@Injectable()
export class GeminiClient extends LlmClient {
  private readonly logger = new Logger(GeminiClient.name);
  private readonly sdk: GoogleGenAI;
  readonly mode: LlmMode;

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    @Inject(GEMINI_ENDPOINT) endpoint: GeminiEndpoint,
  ) {
    super();
    this.mode = endpoint.mode;
    this.sdk = new GoogleGenAI({
      // Without a key the SDK reaches for Google Cloud credentials over the network.
      apiKey: endpoint.apiKey,
      httpOptions: endpoint.baseUrl ? { baseUrl: endpoint.baseUrl } : undefined,
    });
  }

  generate(request: LlmRequest): Promise<LlmResult> {
    return this.withDeadline(request, 'generateContent', async (params) => {
      const response = await this.sdk.models.generateContent(params);
      return resultOf([response]);
    });
  }

  stream(request: LlmRequest, onDelta: (text: string) => void): Promise<LlmResult> {
    return this.withDeadline(request, 'streamGenerateContent', async (params) => {
      // An HTTP error rejects this await; a failure mid-stream throws from the loop.
      const chunks: GenerateContentResponse[] = [];
      for await (const chunk of await this.sdk.models.generateContentStream(params)) {
        chunks.push(chunk);
        const text = answerText(chunk);
        if (text) onDelta(text);
      }
      return resultOf(chunks);
    });
  }

  /**
   * One upstream call under GEMINI_TIMEOUT_MS (the whole stream included), with every failure
   * mapped to a domain error. models.generateContent*, never `chats`: the conversation is
   * rebuilt from the database on every turn.
   */
  private async withDeadline(
    request: LlmRequest,
    method: string,
    call: (params: GenerateContentParameters) => Promise<LlmResult>,
  ): Promise<LlmResult> {
    const { timeoutMs, maxOutputTokens } = this.config.gemini;
    const deadline = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      deadline.abort();
    }, timeoutMs);
    try {
      return await call({
        model: request.model,
        contents: request.contents.map((turn) => ({ role: turn.role, parts: [{ text: turn.text }] })),
        config: {
          systemInstruction: request.systemInstruction ?? undefined,
          maxOutputTokens,
          abortSignal: deadline.signal,
        },
      });
    } catch (error) {
      const mapped = toDomainError(error, { model: request.model, timeoutMs, timedOut });
      this.logger.warn(`${method} ${request.model} failed: ${mapped.code} (${describeUpstream(error)})`);
      throw mapped;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The reply of one call from its chunks (one for generateContent). Usage is the last chunk that
 * carries it: streamed usage is a running total, so summing chunks would bill several times.
 */
export function resultOf(chunks: GenerateContentResponse[]): LlmResult {
  const text = chunks.map(answerText).join('');
  const last = chunks.at(-1);
  const withUsage = chunks.findLast((chunk) => chunk.usageMetadata !== undefined);
  const finishReason = chunks.map((chunk) => chunk.candidates?.[0]?.finishReason).findLast((reason) => reason);
  const blocked = chunks.find((chunk) => chunk.promptFeedback?.blockReason);
  assertAnswered(text, blocked ?? last ?? ({} as GenerateContentResponse), finishReason);
  return {
    text,
    usage: toTokenUsage(withUsage?.usageMetadata),
    finishReason: finishReason ?? null,
    modelVersion: chunks.map((chunk) => chunk.modelVersion).findLast((version) => version) ?? null,
  };
}

/** For the log only: the kind of failure, never the upstream body (it may echo the prompt). */
function describeUpstream(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    return typeof status === 'number' ? `${error.name} ${status}` : error.name;
  }
  return typeof error;
}
