import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApiError, FileState, GoogleGenAI } from '@google/genai';
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { Content, Fetch, File as GeminiFile, GenerateContentParameters, GenerateContentResponse, Part } from '@google/genai';
import { UpstreamError } from '../common/errors.js';
import type { DomainError } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { Metrics } from '../metrics/metrics.js';
import { deleteAtGemini, fileUrisOf, LlmClient } from './llm-client.js';
import type { LlmCallOptions, LlmMedia, LlmMode, LlmRequest, LlmResult, LlmTurn, UploadedFile } from './llm-client.js';
import { GEMINI_ENDPOINT } from './gemini-endpoint.js';
import type { GeminiEndpoint } from './gemini-endpoint.js';
import { retryInfoSeconds, toDomainError } from './upstream-errors.js';
import { answerText, boundedFetch, cancelledResultOf, mostUsageOf, replyByteLimit, replyTooLargeIn, resultOf } from './upstream-reply.js';

/** The one place the Gemini SDK is constructed. */
@Injectable()
export class GeminiClient extends LlmClient {
  private readonly logger = new Logger(GeminiClient.name);
  private readonly sdk: GoogleGenAI;
  /**
   * The abort signal of the Files API call running in this async context: the SDK's files.upload
   * takes none (it sends its chunks without one), so its fetches get the deadline from here.
   */
  private readonly callSignal = new AsyncLocalStorage<AbortSignal>();
  readonly mode: LlmMode;

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    @Inject(GEMINI_ENDPOINT) endpoint: GeminiEndpoint,
    private readonly metrics: Metrics,
  ) {
    super();
    this.mode = endpoint.mode;
    this.sdk = new GoogleGenAI({
      // Without a key the SDK reaches for Google Cloud credentials over the network.
      apiKey: endpoint.apiKey,
      // Every reply is read through a byte bound: no upstream answer is held past what the output cap allows.
      httpOptions: {
        ...(endpoint.baseUrl ? { baseUrl: endpoint.baseUrl } : {}),
        fetch: signalledFetch(boundedFetch(replyByteLimit(config.gemini.maxOutputTokens)), () => this.callSignal.getStore()),
      },
    });
  }

  generate(request: LlmRequest, { signal }: LlmCallOptions = {}): Promise<LlmResult> {
    return this.withDeadline(
      request,
      'generateContent',
      async (abortSignal) => resultOf([await this.sdk.models.generateContent(this.paramsFor(request, abortSignal))]),
      // Cut off for size: the model wrote past its cap, and nothing says what it billed.
      (failure, cutOff) => resultOf([], { failure, paid: cutOff, atMost: this.mostUsageOf(request) }),
      signal && { signal, outcome: (sent) => cancelledResultOf([], request, sent) },
    );
  }

  stream(request: LlmRequest, onDelta: (text: string) => void, { signal }: LlmCallOptions = {}): Promise<LlmResult> {
    const chunks: GenerateContentResponse[] = [];
    const started = performance.now();
    let firstDelta = true;
    return this.withDeadline(
      request,
      'streamGenerateContent',
      async (abortSignal, attempt) => {
        // An HTTP error rejects this await; a failure mid-stream throws from the loop.
        for await (const chunk of await this.sdk.models.generateContentStream(this.paramsFor(request, abortSignal))) {
          // Once a chunk arrived the model ran (thinking is billed too), and once text reached the
          // client a retry would show it twice: no more retries either way.
          attempt.retryable = false;
          chunks.push(chunk);
          const text = answerText(chunk);
          if (!text) continue;
          if (firstDelta) this.metrics.firstDelta((performance.now() - started) / 1000);
          firstDelta = false;
          onDelta(text);
        }
        // A stream the cancel cut short may end quietly rather than throw.
        if (signal?.aborted) return cancelledResultOf(chunks, request, true);
        return resultOf(chunks);
      },
      // Broken, timed out or cut off after chunks: what they reported is what Gemini billed so far.
      (failure, cutOff) => resultOf(chunks, { failure, paid: cutOff, atMost: this.mostUsageOf(request) }),
      signal && { signal, outcome: (sent) => cancelledResultOf(chunks, request, sent) },
    );
  }

  /**
   * countTokens of the contents generateContent would get. SDK 2.32 refuses a system instruction
   * in countTokens on the Developer API ("only supported in … Agent Platform mode",
   * countTokensConfigToMldev), so it is counted as a leading user content: the same text, counted
   * by the same tokenizer.
   */
  countTokens(request: LlmRequest): Promise<number> {
    return this.withDeadline(request, 'countTokens', async (abortSignal) => {
      const system: Content[] = request.systemInstruction ? [{ role: 'user', parts: [{ text: request.systemInstruction }] }] : [];
      const response = await this.sdk.models.countTokens({
        model: request.model,
        contents: [...system, ...contentsOf(request)],
        config: { abortSignal },
      });
      // Gemini's answer is input too: a count is a non-negative safe integer, or there is none.
      const total = response.totalTokens;
      if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0) {
        throw new UpstreamError('Gemini answered countTokens without a valid token count.');
      }
      return total;
    });
  }

  /**
   * files.upload (a resumable upload), then files.get while Gemini says PROCESSING, all under
   * GEMINI_TIMEOUT_MS. Retried (429, 503) only until the upload went through: a retry after it
   * would leave a second copy at Gemini. Its answer is input: checked before it is used.
   */
  uploadFile({ data, mimeType, displayName }: { data: Buffer; mimeType: string; displayName: string }): Promise<UploadedFile> {
    return this.withDeadline(FILES_API, 'files.upload', (abortSignal, attempt) =>
      this.callSignal.run(abortSignal, async () => {
        let file = await this.sdk.files
          .upload({
            file: new Blob([data as Uint8Array<ArrayBuffer>], { type: mimeType }),
            config: { mimeType, displayName },
          })
          .catch(filesApiMissing);
        attempt.retryable = false;
        for (let waitMs = FILE_POLL_FIRST_MS; file?.state === FileState.PROCESSING; waitMs = Math.min(waitMs * 2, FILE_POLL_MAX_MS)) {
          await sleep(waitMs, abortSignal);
          file = await this.sdk.files.get({ name: uploadedNameOf(file), config: { abortSignal } });
        }
        const uploaded = uploadedFileOf(file, mimeType);
        // The bytes Gemini keeps must be the stored ones: a copy of another size is not used, nor kept.
        const size = file?.sizeBytes === undefined ? null : Number(file.sizeBytes);
        if (size !== null && size !== data.length) {
          deleteAtGemini(this, this.logger, [uploaded.name]);
          throw new UpstreamError(`Gemini kept ${String(file?.sizeBytes).slice(0, 20)} bytes of an upload of ${data.length}.`);
        }
        return uploaded;
      }),
    );
  }

  /** files.delete; a file Gemini no longer has (404, or the 403 it answers for an expired one) is deleted already. */
  deleteFile(name: string): Promise<void> {
    return this.withDeadline(FILES_API, 'files.delete', async (abortSignal) => {
      try {
        await this.sdk.files.delete({ name, config: { abortSignal } });
      } catch (error) {
        if (error instanceof ApiError && (error.status === 404 || error.status === 403)) return;
        throw error;
      }
    });
  }

  private mostUsageOf(request: LlmRequest) {
    return mostUsageOf(request, this.config.gemini.maxOutputTokens);
  }

  private paramsFor(request: LlmRequest, abortSignal: AbortSignal): GenerateContentParameters {
    return {
      model: request.model,
      contents: contentsOf(request),
      config: {
        systemInstruction: request.systemInstruction ?? undefined,
        maxOutputTokens: this.config.gemini.maxOutputTokens,
        abortSignal,
      },
    };
  }

  /**
   * One upstream call under GEMINI_TIMEOUT_MS (every attempt and the whole stream included),
   * with every failure mapped to a domain error. A 429 or 503 is retried (GEMINI_RETRIES) with
   * backoff, only while the deadline leaves the retry a fair chance (a quarter of it after the
   * wait): such a call was refused before the model ran, so it is not billed twice; otherwise the
   * caller gets the 429's Retry-After rather than a timeout. models.generateContent*, never
   * `chats`: the conversation is rebuilt from the database on every turn.
   */
  private async withDeadline<T>(
    request: LlmRequest | typeof FILES_API,
    method: string,
    call: (abortSignal: AbortSignal, attempt: { retryable: boolean }) => Promise<T>,
    /**
     * A call that failed once the model ran: its outcome when Gemini billed it (resultOf throws
     * the failure when nothing was reported billed). `cutOff`: the reply ran past its byte bound.
     */
    paidFailure?: (failure: DomainError, cutOff: boolean) => T,
    /**
     * The caller's cancel: when its signal aborts, the attempt running is aborted (the SDK drops
     * the connection, so Gemini stops generating), no retry follows, and the call ends with
     * `outcome` — `sent`: whether a request had left for Gemini.
     */
    cancel?: { signal: AbortSignal; outcome: (sent: boolean) => T },
  ): Promise<T> {
    const { timeoutMs, retries } = this.config.gemini;
    const fileUris = 'contents' in request ? fileUrisOf(request) : [];
    const deadline = new AbortController();
    const deadlineAt = Date.now() + timeoutMs;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      deadline.abort();
    }, timeoutMs);
    try {
      for (let attemptNo = 0; ; attemptNo++) {
        // Cancelled before this attempt (while waiting to retry): the attempts before were refused
        // before the model ran (only those are retried), so nothing was billed.
        if (cancel?.signal.aborted) return cancel.outcome(false);
        // The deadline may have fired while we waited to retry: a listener added now would never fire.
        if (deadline.signal.aborted)
          throw toDomainError(new DOMException('deadline', 'AbortError'), { model: request.model, timeoutMs, timedOut: true, fileUris });
        const attempt = { retryable: true };
        const attemptStarted = performance.now();
        const attemptSeconds = () => (performance.now() - attemptStarted) / 1000;
        // A signal per attempt, following the deadline: the SDK leaves its abort listeners on the
        // signal it is given, and they must not pile up on one signal across retries.
        const attemptAbort = new AbortController();
        const abortAttempt = () => attemptAbort.abort();
        deadline.signal.addEventListener('abort', abortAttempt, { once: true });
        cancel?.signal.addEventListener('abort', abortAttempt, { once: true });
        try {
          const result = await call(attemptAbort.signal, attempt);
          this.metrics.upstreamAttempt(method, attemptSeconds());
          return result;
        } catch (error) {
          if (cancel?.signal.aborted) {
            this.metrics.upstreamAttempt(method, attemptSeconds());
            return cancel.outcome(true);
          }
          const mapped = toDomainError(error, { model: request.model, timeoutMs, timedOut, fileUris });
          this.metrics.upstreamAttempt(method, attemptSeconds(), {
            status: error instanceof ApiError ? error.status : null,
            code: mapped.code,
          });
          const cutOff = replyTooLargeIn(error) !== null;
          if (paidFailure && (cutOff || !attempt.retryable)) return paidFailure(mapped, cutOff);
          const delayMs = retryDelayMs(error, attemptNo);
          const retry =
            attempt.retryable && !timedOut && attemptNo < retries && delayMs !== null && Date.now() + delayMs + timeoutMs / 4 <= deadlineAt;
          this.logger.warn(
            `${method}${'contents' in request ? ` ${request.model}` : ''} attempt ${attemptNo + 1} failed: ${mapped.code} (${describeUpstream(error)})` +
              (retry ? `; retrying in ${delayMs} ms` : ''),
          );
          if (!retry) throw mapped;
          await sleep(delayMs, cancel ? AbortSignal.any([deadline.signal, cancel.signal]) : deadline.signal);
        } finally {
          deadline.signal.removeEventListener('abort', abortAttempt);
          cancel?.signal.removeEventListener('abort', abortAttempt);
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** What withDeadline is told for a Files API call: no model, no prompt. */
const FILES_API = { model: 'files' } as const;
const FILE_POLL_FIRST_MS = 100;
const FILE_POLL_MAX_MS = 2000;
/** When Gemini's answer gives no usable expiry: an hour short of its 48 h, so the file is not used past it. */
const FALLBACK_FILE_LIFETIME_MS = 47 * 3600 * 1000;
/** No expiry later than Gemini's 48 h is believed. */
const MAX_FILE_LIFETIME_MS = 48 * 3600 * 1000;
const FILE_NAME = /^files\/[A-Za-z0-9_-]{1,64}$/;

function contentsOf(request: LlmRequest): Content[] {
  return request.contents.map((turn) => ({ role: turn.role, parts: partsOf(turn) }));
}

/**
 * A turn's files, then its text. A turn with files and no text sends only the files: Gemini
 * refuses an empty text part.
 */
function partsOf(turn: LlmTurn): Part[] {
  const media = (turn.media ?? []).map(partOf);
  return media.length > 0 && turn.text.length === 0 ? media : [...media, { text: turn.text }];
}

function partOf(media: LlmMedia): Part {
  switch (media.kind) {
    case 'inline':
      return { inlineData: { mimeType: media.mimeType, data: media.data.toString('base64') } };
    case 'uri':
      return { fileData: { mimeType: media.mimeType, fileUri: media.uri } };
    case 'note':
      return { text: media.text };
  }
}

/** A 404 from files.upload: this endpoint has no Files API (a proxy, an old emulator), not a missing model. */
function filesApiMissing(error: unknown): never {
  if (error instanceof ApiError && error.status === 404) throw new UpstreamError("Gemini's Files API is not available at this endpoint.");
  throw error;
}

function uploadedNameOf(file: GeminiFile | undefined): string {
  const name = file?.name;
  if (typeof name !== 'string' || !FILE_NAME.test(name)) throw new UpstreamError('Gemini answered an upload without a valid file name.');
  return name;
}

/** Gemini's answer to an upload, checked: a `files/` name, an http(s) URI, ACTIVE, an expiry no later than 48 h from now. */
function uploadedFileOf(answer: GeminiFile | undefined, mimeType: string): UploadedFile {
  const name = uploadedNameOf(answer);
  const file = answer!;
  if (file.state === FileState.FAILED) throw new UpstreamError('Gemini could not process the uploaded file.');
  if (file.state !== undefined && file.state !== FileState.ACTIVE)
    throw new UpstreamError('Gemini answered an upload in an unknown state.');
  const uri = file.uri;
  if (typeof uri !== 'string' || uri.length > 2048 || !/^https?:$/.test(safeUrl(uri)?.protocol ?? '')) {
    throw new UpstreamError('Gemini answered an upload without a valid file URI.');
  }
  const now = Date.now();
  const stated = typeof file.expirationTime === 'string' ? Date.parse(file.expirationTime) : Number.NaN;
  const expiresAt =
    Number.isFinite(stated) && stated > now ? Math.min(stated, now + MAX_FILE_LIFETIME_MS) : now + FALLBACK_FILE_LIFETIME_MS;
  return { name, uri, mimeType, expiresAt: new Date(expiresAt).toISOString() };
}

function safeUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** The SDK's fetch, also aborted by the signal `signalOf` gives for the call running (if any). */
function signalledFetch(fetchImpl: Fetch, signalOf: () => AbortSignal | undefined): Fetch {
  return (input, init) => {
    const extra = signalOf();
    if (!extra) return fetchImpl(input, init);
    return fetchImpl(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, extra]) : extra });
  };
}

const BACKOFF_BASE_MS = 250;

/** Null when the failure is not worth retrying; else how long to wait (Gemini's RetryInfo wins). */
export function retryDelayMs(error: unknown, attemptNo: number): number | null {
  if (!(error instanceof ApiError) || (error.status !== 429 && error.status !== 503)) return null;
  const hinted = retryInfoSeconds(error.message);
  if (hinted !== null) return Math.ceil(hinted * 1000);
  const backoff = BACKOFF_BASE_MS * 2 ** attemptNo;
  return Math.round(backoff / 2 + Math.random() * backoff);
}

/** Waits `ms`, or less when `signal` aborts; leaves no listener behind either way. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });
}

/** For the log only: the kind of failure, never the upstream body (it may echo the prompt). */
function describeUpstream(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    return typeof status === 'number' ? `${error.name} ${status}` : error.name;
  }
  return typeof error;
}
