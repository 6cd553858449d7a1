import { FinishReason } from '@google/genai';
import type { Fetch, GenerateContentResponse, GenerateContentResponseUsageMetadata } from '@google/genai';
import { ContentBlocked, UpstreamError } from '../common/errors.js';
import type { DomainError } from '../common/errors.js';
import { MEDIA_MODALITIES, splitByModality, ZERO_USAGE } from '../core/token-usage.js';
import type { MediaModality, TokenUsage } from '../core/token-usage.js';
import { CANCELLED, promptUsageOf } from './llm-client.js';
import type { LlmRequest, LlmResult } from './llm-client.js';

/**
 * Gemini's replies are input like any other: this file reads them — text, usage, the answering
 * model, why a reply holds nothing — trusting nothing but what it checked.
 */

/** U+0000 cannot be stored in a PostgreSQL text column: a reply holding it keeps U+FFFD in its place, on every database alike. */
const NUL = '\u0000';

/** The answer text: text parts of the first candidate, thought parts skipped. */
export function answerText(response: GenerateContentResponse): string {
  const parts = response.candidates?.[0]?.content?.parts ?? [];
  return parts
    .filter((part) => typeof part.text === 'string' && !part.thought)
    .map((part) => part.text!.replaceAll(NUL, '\uFFFD'))
    .join('');
}

export function toTokenUsage(metadata: GenerateContentResponseUsageMetadata | undefined): TokenUsage | null {
  // A count is a non-negative safe integer, or the usage is not to be stored, summed or priced
  // at all (a string would concatenate, 1e308 would overflow every total).
  let valid = true;
  const count = (value: unknown): number => {
    if (value === undefined || value === null) return 0;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    valid = false;
    return 0;
  };
  // Each modality's tokens from a details list (entries of one modality add up). TEXT is read
  // only to be checked: text is what is left of the count once the media shares are taken.
  // Entries of a modality Gemini may add later are left in text, priced at the input rate.
  const modalities = (details: { modality?: string; tokenCount?: number }[] | undefined) => {
    const media: Record<MediaModality, number> = { audio: 0, image: 0, video: 0, document: 0 };
    for (const detail of Array.isArray(details) ? details : []) {
      const modality = typeof detail?.modality === 'string' && /^[A-Z]+$/.test(detail.modality) ? detail.modality.toLowerCase() : null;
      if (modality === 'text') count(detail.tokenCount);
      else if ((MEDIA_MODALITIES as readonly string[]).includes(modality!)) media[modality as MediaModality] += count(detail.tokenCount);
    }
    if (!Object.values(media).every((n) => Number.isSafeInteger(n))) valid = false;
    return media;
  };
  const promptTokens = count(metadata?.promptTokenCount);
  const cachedTokens = count(metadata?.cachedContentTokenCount);
  const outputTokens = count(metadata?.candidatesTokenCount);
  const thoughtsTokens = count(metadata?.thoughtsTokenCount);
  const toolPromptTokens = count(metadata?.toolUsePromptTokenCount);
  // The details are a breakdown of their count, stored as shares of it: details that add up to
  // more than the count (a contradiction in the reply) are taken up to it, audio first
  // (splitByModality), so every stored row splits exactly and sums of rows split alike.
  const prompt = splitByModality(promptTokens, modalities(metadata?.promptTokensDetails));
  const cached = splitByModality(cachedTokens, modalities(metadata?.cacheTokensDetails));
  const usage: TokenUsage = {
    promptTokens,
    cachedTokens,
    outputTokens,
    thoughtsTokens,
    toolPromptTokens,
    totalTokens:
      metadata?.totalTokenCount === undefined
        ? promptTokens + outputTokens + thoughtsTokens + toolPromptTokens
        : count(metadata.totalTokenCount),
    audioPromptTokens: prompt.audio,
    imagePromptTokens: prompt.image,
    videoPromptTokens: prompt.video,
    documentPromptTokens: prompt.document,
    audioCachedTokens: cached.audio,
    imageCachedTokens: cached.image,
    videoCachedTokens: cached.video,
    documentCachedTokens: cached.document,
  };
  return valid && Object.values(usage).every((n) => Number.isSafeInteger(n)) ? usage : null;
}

/** A model id as Gemini names them (`gemini-2.5-flash`, `models/gemini-3.8-flash-preview-09-2026`): letters, digits, `.`, `_`, `-`. */
const MODEL_ID = /^(?:models\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MODEL_ID_MAX_LENGTH = 100;

/** `modelVersion` when it is a plausible model id (a string of that shape, at most 100 characters); else null. */
export function modelIdOf(value: unknown): string | null {
  if (typeof value !== 'string' || !MODEL_ID.test(value)) return null;
  const id = value.replace(/^models\//, '');
  return id.length <= MODEL_ID_MAX_LENGTH ? id : null;
}

/** An enum value as Gemini writes them (`MAX_TOKENS`, `SAFETY`); anything else is not one, and is never stored, logged or shown. */
export function enumValueOf(value: unknown): string | null {
  return typeof value === 'string' && /^[A-Z][A-Z0-9_]{0,39}$/.test(value) ? value : null;
}

/** Why a reply holds no answer text (CONTENT_BLOCKED, saying why when Gemini said), or null when it holds one. */
export function refusalOf(
  text: string,
  response: GenerateContentResponse,
  finishReason = response.candidates?.[0]?.finishReason,
): DomainError | null {
  const blockReason = response.promptFeedback?.blockReason;
  if (blockReason) return new ContentBlocked(`Gemini blocked the prompt (${enumValueOf(blockReason) ?? 'reason not given'}).`);
  if (text.length > 0) return null;
  const onlyCalls = response.candidates?.[0]?.content?.parts?.some((part) => part.functionCall !== undefined);
  return new ContentBlocked(
    onlyCalls
      ? 'Gemini answered with a function call and no reply text.'
      : enumValueOf(finishReason) && finishReason !== FinishReason.STOP
        ? `Gemini returned no reply text (finish reason ${finishReason}).`
        : 'Gemini returned an empty reply.',
  );
}

/**
 * The reply of one call from the chunks that arrived (one for generateContent). Usage is the
 * last chunk that carries it: streamed usage is a running total, so summing chunks would bill
 * several times. `ended` is how the call ended when it did not end well (the stream broke,
 * timed out, was cut off): then the reply is incomplete and that is its failure.
 *
 * A call Gemini reported usage for is a paid call: it resolves with its failure, if any, so its
 * spend is recorded. A failure Gemini reported no usage for is thrown: nothing was billed.
 */
export function resultOf(
  chunks: GenerateContentResponse[],
  ended?: {
    failure: DomainError;
    /** Billed whatever the chunks say: the reply ran past its size bound. */
    paid: boolean;
    /** What the call is taken to have used when no chunk said: the most it could have. */
    atMost?: TokenUsage;
  },
): LlmResult {
  const text = chunks.map(answerText).join('');
  const withUsage = chunks.findLast((chunk) => chunk.usageMetadata !== undefined && chunk.usageMetadata !== null);
  const finishReason = chunks.map((chunk) => chunk.candidates?.[0]?.finishReason).findLast((reason) => reason);
  const blocked = chunks.find((chunk) => chunk.promptFeedback?.blockReason);
  const reported = chunks.map((chunk) => chunk.modelVersion as unknown).findLast((version) => version !== undefined && version !== null);
  const modelVersion = modelIdOf(reported);
  const failure = ended?.failure ?? refusalOf(text, blocked ?? chunks.at(-1) ?? ({} as GenerateContentResponse), finishReason);
  const paid = withUsage !== undefined || ended?.paid === true;
  if (failure && !paid) throw failure;
  return {
    text,
    usage: withUsage ? toTokenUsage(withUsage.usageMetadata) : (ended?.atMost ?? null),
    finishReason: enumValueOf(finishReason),
    modelVersion,
    modelVersionRejected: reported !== undefined && modelVersion === null,
    failure,
    complete: ended === undefined,
  };
}

/**
 * A call its caller cancelled, from the chunks that arrived: their text, stored as the reply with
 * `finishReason: 'CANCELLED'`, and the usage of the last chunk that carried usage — what Gemini
 * reported, priced as such (`complete`). When none came, Gemini still billed the call if it was
 * sent: the usage is then an estimate (`complete: false`, so it is priced `estimated`) — the
 * prompt's bound (promptUsageOf) and every character written so far an output token, as bounds go
 * rather than the whole output cap: the reply was cut short. Not sent: nothing was used.
 */
export function cancelledResultOf(chunks: GenerateContentResponse[], request: LlmRequest, sent: boolean): LlmResult {
  const text = chunks.map(answerText).join('');
  const withUsage = chunks.findLast((chunk) => chunk.usageMetadata !== undefined && chunk.usageMetadata !== null);
  const reported = chunks.map((chunk) => chunk.modelVersion as unknown).findLast((version) => version !== undefined && version !== null);
  const modelVersion = modelIdOf(reported);
  // The prompt's bound, its files at their weight (by modality), as for a call cut off.
  const prompt = sent ? promptUsageOf(request) : ZERO_USAGE;
  const outputTokens = [...text].length;
  return {
    text,
    usage: withUsage ? toTokenUsage(withUsage.usageMetadata) : { ...prompt, outputTokens, totalTokens: prompt.promptTokens + outputTokens },
    finishReason: CANCELLED,
    modelVersion,
    modelVersionRejected: reported !== undefined && modelVersion === null,
    failure: null,
    complete: withUsage !== undefined,
  };
}

/** The most a call can have used: every prompt character a token (a token is rarely shorter), and the whole output cap. */
export function mostUsageOf(request: LlmRequest, maxOutputTokens: number): TokenUsage {
  const prompt = promptUsageOf(request);
  return { ...prompt, outputTokens: maxOutputTokens, totalTokens: prompt.promptTokens + maxOutputTokens };
}

/**
 * The most bytes a reply of `maxOutputTokens` can take: a token is a few characters, escaped
 * in JSON at most six bytes each, and a stream repeats its metadata in every chunk — 128 bytes
 * a token leaves all of that room — plus 1 MiB for the rest of the envelope. Past it the reply
 * is not one the model could have written under the cap.
 */
export function replyByteLimit(maxOutputTokens: number): number {
  return 1024 * 1024 + maxOutputTokens * 128;
}

/** A reply body that ran past `replyByteLimit`: read no further, the connection dropped. */
export class ReplyTooLarge extends Error {
  constructor(readonly limitBytes: number) {
    super(`Gemini's reply passed ${limitBytes} bytes`);
    this.name = 'ReplyTooLarge';
  }
}

/** The reply past its byte bound, wherever the SDK wrapped it. */
export function replyTooLargeIn(error: unknown): ReplyTooLarge | null {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    if (cause instanceof ReplyTooLarge) return cause;
    cause = (cause as { cause?: unknown }).cause;
  }
  return null;
}

export function replyTooLargeError(limitBytes: number): UpstreamError {
  return new UpstreamError(
    `Gemini's reply was larger than any reply within GEMINI_MAX_OUTPUT_TOKENS could be (${limitBytes} bytes): it was cut off.`,
  );
}

/**
 * The SDK's fetch, with every response body bounded: past `limitBytes` the body errors with
 * ReplyTooLarge and the connection is dropped, so no reply — streamed or not — is held in
 * memory, stored or relayed beyond what the output cap allows.
 */
export function boundedFetch(limitBytes: number, fetchImpl: typeof fetch = fetch): Fetch {
  return async (input, init) => {
    const response = await fetchImpl(input, init);
    if (!response.body) return response;
    let seen = 0;
    const bounded = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          // Erroring the transform cancels the source: the rest of the reply is never read.
          if (seen > limitBytes) controller.error(new ReplyTooLarge(limitBytes));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(bounded, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
