import { Inject, Injectable, Logger } from '@nestjs/common';
import { GoogleGenAI } from '@google/genai';
import type { GenerateContentResponse } from '@google/genai';
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

  async generate(request: LlmRequest): Promise<LlmResult> {
    const { timeoutMs, maxOutputTokens } = this.config.gemini;
    const deadline = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      deadline.abort();
    }, timeoutMs);
    let response: GenerateContentResponse;
    try {
      // models.generateContent, never `chats`: the conversation is rebuilt from the database.
      response = await this.sdk.models.generateContent({
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
      this.logger.warn(`generateContent ${request.model} failed: ${mapped.code} (${describeUpstream(error)})`);
      throw mapped;
    } finally {
      clearTimeout(timer);
    }
    const text = answerText(response);
    assertAnswered(text, response);
    return {
      text,
      usage: toTokenUsage(response.usageMetadata),
      finishReason: response.candidates?.[0]?.finishReason ?? null,
      modelVersion: response.modelVersion ?? null,
    };
  }
}

/** For the log only: the kind of failure, never the upstream body (it may echo the prompt). */
function describeUpstream(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    return typeof status === 'number' ? `${error.name} ${status}` : error.name;
  }
  return typeof error;
}
