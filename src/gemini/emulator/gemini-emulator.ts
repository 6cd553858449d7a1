import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadModelTable } from '../../models/model-table.js';
import { geminiModalityOf, mediaFactsOf, mediaModalityOf, mediaTokens } from '../media-tokens.js';
import type { GeminiModality, MediaFacts, MediaModality } from '../media-tokens.js';

/**
 * A stand-in for the Gemini Developer API (REST, `v1beta`), good enough for the real
 * `@google/genai` SDK: used by e2e tests (scripted failures, recorded requests), by the
 * service in offline mode, and standalone (cli.ts). What it speaks: README, "The Gemini emulator".
 *
 * It keeps nothing it is sent unless asked to (`recordRequests`, for tests), and reads no body
 * past `maxBodyBytes`: the offline service runs it in-process, so its memory must stay flat.
 */

export interface EmulatorUsage {
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
  promptTokensDetails?: { modality: string; tokenCount: number }[];
  cacheTokensDetails?: { modality: string; tokenCount: number }[];
}

export interface ScriptedReply {
  /** >= 400: answer a Google error body with this HTTP status. */
  status?: number;
  /** Message of the error body (a default per status otherwise). */
  errorMessage?: string;
  /** Adds a Retry-After header and a RetryInfo detail (retryDelay) to an error. */
  retryAfterSeconds?: number;
  /** Reply text (default: an echo of the last user message). */
  text?: string;
  /** Adds a `{ text, thought: true }` part before the answer. */
  thoughts?: string;
  /** Fields given override the computed usageMetadata (total recomputed unless given). */
  usage?: EmulatorUsage;
  /** Default: the requested model id. */
  modelVersion?: string;
  /** Default 'STOP' ('MAX_TOKENS' when truncated by maxOutputTokens or `empty`). */
  finishReason?: string;
  /** e.g. 'SAFETY': 200 with no candidates and promptFeedback.blockReason. */
  blocked?: string;
  /** 200 with one candidate without text parts; usage still present. */
  empty?: boolean;
  /** Wait this long before answering (the client may abort meanwhile). */
  delayMs?: number;
  /** 200 with a truncated JSON body (stream: a `data:` line with invalid JSON). */
  malformed?: boolean;
  /** Stream: N SSE chunks then the socket is destroyed; non-stream: part of the body then destroyed. */
  breakAfterChunks?: number;
  /** Stream: N chunks then `data: {"error":…}` (status/errorMessage, default 500). Non-stream: that HTTP error. */
  streamErrorAfterChunks?: number;
  /** Stream: true (default) = every chunk carries running-total usage; false = only the last one. */
  usageOnEveryChunk?: boolean;
  /** Stream: pause between chunks (default 2 ms). */
  chunkDelayMs?: number;
  /** The reply is a function call and no text (usage still present). */
  functionCall?: { name: string; args?: Record<string, unknown> };
  /**
   * A hostile upstream: these top-level fields replace those of the response body (of every
   * chunk, streamed), whatever their type — `{ modelVersion: { x: 1 } }`, a candidates list of 10 MB.
   */
  fields?: Record<string, unknown>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  model: string;
  /** `generateContent`, `streamGenerateContent`, `countTokens`, or whatever else a client asked for. */
  action: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body; the raw text when it is not JSON; undefined when there was none. */
  body: any;
  receivedAt: number;
  /** True once the connection closed before the answer was complete: the client hung up (e.g. on its deadline), or a scripted break. */
  clientGone?: boolean;
}

/** A file received through the Files API (with `recordRequests`): what the tests check arrived. */
export interface ReceivedUpload {
  /** `files/…` */
  name: string;
  displayName: string | null;
  mimeType: string;
  data: Buffer;
  receivedAt: number;
}

/** A Files API file's state, as `files.get` reports it. */
export type EmulatedFileState = 'PROCESSING' | 'ACTIVE' | 'FAILED';

interface StoredFile {
  id: string;
  displayName: string | null;
  mimeType: string;
  data: Buffer;
  facts: MediaFacts;
  sha256: string;
  createdAt: number;
  expiresAt: number;
  /** What the next `files.get` calls report; the last stays. */
  states: EmulatedFileState[];
}

interface PendingUpload {
  displayName: string | null;
  mimeType: string;
  declaredBytes: number | null;
  chunks: Buffer[];
  received: number;
}

/** Gemini deletes a Files API file 48 hours after its upload. */
export const FILE_LIFETIME_MS = 48 * 3600 * 1000;

/** A media part of a request, resolved to its bytes. */
interface ResolvedMedia {
  mimeType: string;
  modality: MediaModality;
  data: Buffer;
  /** Known for uploaded files (read at upload); read from the bytes for inline data. */
  facts: MediaFacts;
}

export interface GeminiEmulatorOptions {
  defaultReply?: ScriptedReply;
  /** Keep every request in `requests` (tests read what was sent). Default: keep nothing. */
  recordRequests?: boolean;
  /** Longest request body read; a longer one is refused as Google does. Default 20 MiB, Gemini's request limit. */
  maxBodyBytes?: number;
  /**
   * Each model's input token limit, enforced on generate calls as Gemini does (400 INVALID_ARGUMENT).
   * Default: the bundled model table's `input_token_limit`; entries given here replace those.
   */
  inputTokenLimits?: Record<string, number>;
}

/** The bundled model table's input limits, read once. */
let bundledLimits: Map<string, number> | undefined;
function bundledInputLimits(): Map<string, number> {
  bundledLimits ??= new Map(
    loadModelTable(null).models.flatMap((entry) =>
      entry.input_token_limit === null ? [] : [[entry.model, entry.input_token_limit] as const],
    ),
  );
  return bundledLimits;
}

/** Gemini's documented limit for one request (inline data included). */
export const GEMINI_REQUEST_LIMIT_BYTES = 20 * 1024 * 1024;

type Part = { text?: string; thought?: boolean; [key: string]: unknown };
type Content = { role?: string; parts?: Part[] };

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'Request contains an invalid argument.',
  403: 'The caller does not have permission.',
  404: 'Requested entity was not found.',
  429: 'Resource has been exhausted (e.g. check quota).',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'Deadline expired before operation could complete.',
};

const ROUTE = /^\/(v1|v1beta|v1alpha)\/models\/([^/:]+):([A-Za-z]+)$/;
/** The Files API: metadata (`/v1beta/files[/id]`) and the resumable upload (`/upload/v1beta/files`). */
const FILES_ROUTE = /^\/(v1|v1beta|v1alpha)\/files(?:\/([^/]+))?$/;
const UPLOAD_ROUTE = /^\/upload\/(v1|v1beta|v1alpha)\/files$/;
/** A file URI as Gemini writes them (`https://…/v1beta/files/abc123`), or its name (`files/abc123`). */
const FILE_URI = /(?:^|\/)files\/([A-Za-z0-9_-]{1,64})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** The SDK uploads in chunks of 8 MiB and says so (x-goog-upload-chunk-granularity). */
const UPLOAD_CHUNK_GRANULARITY = 8 * 1024 * 1024;
/** Gemini's limit for one file. */
const MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024;
const ACTIONS = new Set(['generateContent', 'streamGenerateContent', 'countTokens']);
const RETIRED_MODELS = new Set(['gemini-1.0-pro', 'gemini-1.5-flash', 'gemini-1.5-pro']);
// "-2.5-" or "-3-"/"-3.1-", but not the "3" of a version suffix like "-003".
const THINKING_MODEL = /(^|[^0-9.])(2\.5|3)([^0-9]|$)/;
const DEFAULT_CHUNK_DELAY_MS = 2;
const STREAM_CHUNKS = 4;

/** The emulator's token estimate: about four characters per token, at least one per part. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** A request's prompt tokens, and how they split by modality (`promptTokensDetails`: only modalities present). */
interface PromptCount {
  total: number;
  details: { modality: GeminiModality; tokenCount: number }[];
}

const MODALITY_ORDER: GeminiModality[] = ['TEXT', 'IMAGE', 'AUDIO', 'VIDEO', 'DOCUMENT'];

/**
 * Text as before (about four characters a token, at least one a part); a media part by Gemini's
 * rules for `model` (media-tokens.ts) from its bytes. `media` holds the request's resolved media parts.
 */
function promptCount(request: Record<string, any>, model: string, media: Map<unknown, ResolvedMedia>): PromptCount {
  const byModality = new Map<GeminiModality, number>();
  const add = (modality: GeminiModality, tokens: number) => byModality.set(modality, (byModality.get(modality) ?? 0) + tokens);
  const countContent = (content: unknown) => {
    const parts = isObject(content) && Array.isArray(content.parts) ? content.parts : [];
    for (const part of parts) {
      const resolved = media.get(part);
      if (resolved) {
        add(geminiModalityOf(resolved.modality), mediaTokens(model, resolved.modality, resolved.facts, resolved.data.length));
      } else {
        add('TEXT', Math.max(1, estimateTokens(isObject(part) && typeof part.text === 'string' ? part.text : '')));
      }
    }
  };
  if (isObject(request.systemInstruction)) countContent(request.systemInstruction);
  for (const content of request.contents as unknown[]) countContent(content);
  const details = MODALITY_ORDER.filter((m) => byModality.has(m)).map((modality) => ({ modality, tokenCount: byModality.get(modality)! }));
  return { total: details.reduce((sum, d) => sum + d.tokenCount, 0), details };
}

/** "1 image and 1 PDF of 3 pages": what a user turn carried, for the default reply. */
function describeMedia(media: ResolvedMedia[]): string {
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const of = (modality: MediaModality) => media.filter((m) => m.modality === modality);
  const phrases: string[] = [];
  const images = of('image').length;
  if (images > 0) phrases.push(plural(images, 'image'));
  const pdfs = of('document');
  if (pdfs.length > 0) {
    const pages = pdfs.reduce((sum, m) => sum + (m.facts.pages ?? 1), 0);
    phrases.push(`${plural(pdfs.length, 'PDF')} of ${plural(pages, 'page')}`);
  }
  for (const [modality, one] of [
    ['audio', 'audio file'],
    ['video', 'video'],
  ] as const) {
    const files = of(modality);
    if (files.length === 0) continue;
    const seconds = files.reduce<number | null>((sum, m) => (sum === null || !m.facts.seconds ? null : sum + m.facts.seconds), 0);
    phrases.push(plural(files.length, one) + (seconds === null ? '' : ` of ${Math.round(seconds * 10) / 10} s`));
  }
  const texts = of('text').length;
  if (texts > 0) phrases.push(plural(texts, 'text file'));
  return phrases.length <= 1 ? (phrases[0] ?? '') : `${phrases.slice(0, -1).join(', ')} and ${phrases.at(-1)}`;
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textOf(content: Content | undefined): string {
  return (content?.parts ?? [])
    .filter((p) => typeof p?.text === 'string' && !p.thought)
    .map((p) => p.text as string)
    .join('\n');
}

function isUserTurn(content: Content): boolean {
  return (content.role ?? 'user') === 'user';
}

function defaultReplyText(contents: Content[], model: string, media: Map<unknown, ResolvedMedia>): string {
  const userTurns = contents.filter(isUserTurn);
  const lastTurn = userTurns[userTurns.length - 1];
  const lastText = textOf(lastTurn).trim() || '(no text)';
  const received = describeMedia((lastTurn?.parts ?? []).flatMap((part) => media.get(part) ?? []));
  return (
    (received ? `I received ${received}.\n\n` : '') +
    `Echo: ${lastText}\n\n` +
    `This is a canned answer from the Gemini emulator standing in for ${model}. ` +
    `It is turn ${userTurns.length} of this conversation and I received ${contents.length} message(s) of context.`
  );
}

function truncateToTokens(text: string, maxTokens: number): string {
  const maxChars = maxTokens * 4;
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars);
  const lastSpace = cut.lastIndexOf(' ');
  return lastSpace > maxChars / 2 ? cut.slice(0, lastSpace) : cut;
}

/** Splits on word boundaries into at most `count` pieces that join back to `text` exactly. */
function splitForStream(text: string, count: number): string[] {
  const words = text.match(/\s*\S+\s*/g);
  if (!words || words.length === 0) return [text];
  const n = Math.min(count, words.length);
  const pieces: string[] = [];
  for (let i = 0; i < n; i++) {
    const from = Math.floor((i * words.length) / n);
    const to = Math.floor(((i + 1) * words.length) / n);
    pieces.push(words.slice(from, to).join(''));
  }
  return pieces;
}

function buildUsage(
  prompt: PromptCount,
  candidates: number,
  thoughts: number,
  override: EmulatorUsage | undefined,
  partial: boolean,
): EmulatorUsage {
  const o = override ?? {};
  const pick = <K extends keyof EmulatorUsage>(key: K, computed: EmulatorUsage[K]): EmulatorUsage[K] =>
    o[key] !== undefined ? o[key] : computed;

  const promptTokenCount = pick('promptTokenCount', prompt.total) ?? 0;
  // A partial stream chunk can't have produced more than the final answer reports.
  const candidatesTokenCount = partial
    ? Math.min(candidates, o.candidatesTokenCount ?? candidates)
    : (pick('candidatesTokenCount', candidates) ?? 0);
  const thoughtsTokenCount = pick('thoughtsTokenCount', thoughts) ?? 0;
  const usage: EmulatorUsage = { promptTokenCount };
  if (o.cachedContentTokenCount !== undefined) usage.cachedContentTokenCount = o.cachedContentTokenCount;
  // Like the real API, zero counts are left out rather than sent as 0.
  if (candidatesTokenCount > 0 || o.candidatesTokenCount !== undefined) {
    usage.candidatesTokenCount = candidatesTokenCount;
  }
  if (thoughtsTokenCount > 0 || o.thoughtsTokenCount !== undefined) usage.thoughtsTokenCount = thoughtsTokenCount;
  if (o.toolUsePromptTokenCount !== undefined) usage.toolUsePromptTokenCount = o.toolUsePromptTokenCount;
  const sum = promptTokenCount + candidatesTokenCount + thoughtsTokenCount + (usage.toolUsePromptTokenCount ?? 0);
  usage.totalTokenCount = !partial && o.totalTokenCount !== undefined ? o.totalTokenCount : sum;
  // A scripted prompt count without details is all text; else the computed split.
  usage.promptTokensDetails =
    o.promptTokensDetails ?? (o.promptTokenCount !== undefined ? [{ modality: 'TEXT', tokenCount: promptTokenCount }] : prompt.details);
  if (o.cacheTokensDetails !== undefined) usage.cacheTokensDetails = o.cacheTokensDetails;
  return usage;
}

function candidate(parts: Part[], finishReason?: string): Record<string, unknown> {
  // The SDK treats a role-less content as empty, so `role` is always there; an answer
  // without output has no `parts` at all, as the real API sends it.
  const content = parts.length > 0 ? { parts, role: 'model' } : { role: 'model' };
  return finishReason ? { content, finishReason, index: 0 } : { content, index: 0 };
}

function googleError(
  code: number,
  message?: string,
  retryAfterSeconds?: number,
): { error: { code: number; message: string; status: string; details?: object[] } } {
  return {
    error: {
      code,
      message: message ?? DEFAULT_MESSAGES[code] ?? 'Request failed.',
      status: STATUS_NAMES[code] ?? 'UNKNOWN',
      // Google says how long to wait in a RetryInfo detail of the body.
      ...(retryAfterSeconds !== undefined
        ? { details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterSeconds}s` }] }
        : {}),
    },
  };
}

function isOpen(res: ServerResponse): boolean {
  const socket = res.socket;
  return !res.destroyed && !res.writableEnded && !!socket && !socket.destroyed;
}

/** Everything needed to answer one generate call, computed once for both wire formats. */
interface Answer {
  blocked?: string;
  thoughts?: string;
  functionCall?: { name: string; args?: Record<string, unknown> };
  text: string;
  finishReason: string;
  prompt: PromptCount;
  thoughtsTokens: number;
  usage: EmulatorUsage;
  modelVersion: string;
  responseId: string;
}

export class GeminiEmulator {
  /** What was received, oldest first: only with `recordRequests`. */
  readonly requests: RecordedRequest[] = [];
  /** Files received through the Files API, bytes and all, oldest first: only with `recordRequests`. */
  readonly uploads: ReceivedUpload[] = [];
  /** Names (`files/…`) of the files deleted through the Files API, oldest first: only with `recordRequests`. */
  readonly deletes: string[] = [];
  private readonly recordRequests: boolean;
  /** The Files API's files, by id; a file past its expiry is gone (as at Gemini: 403 for whoever names it). */
  private readonly files = new Map<string, StoredFile>();
  private readonly pendingUploads = new Map<string, PendingUpload>();
  /** How far the emulator's clock is ahead of the real one (`advanceClock`): file expiry is judged by it. */
  private clockOffsetMs = 0;
  private nextFileStates: EmulatedFileState[] = [];
  private readonly fileErrors: number[] = [];
  private readonly maxBodyBytes: number;
  private readonly inputTokenLimits: Map<string, number>;

  private server: Server | undefined;
  private url: string | undefined;
  private readonly queue: ScriptedReply[] = [];
  private defaultReply: ScriptedReply;
  private readonly initialDefaultReply: ScriptedReply;
  private readonly wakers = new Set<() => void>();

  constructor(options: GeminiEmulatorOptions = {}) {
    this.initialDefaultReply = { ...(options.defaultReply ?? {}) };
    this.defaultReply = { ...this.initialDefaultReply };
    this.recordRequests = options.recordRequests ?? false;
    this.maxBodyBytes = options.maxBodyBytes ?? GEMINI_REQUEST_LIMIT_BYTES;
    this.inputTokenLimits = new Map([...bundledInputLimits(), ...Object.entries(options.inputTokenLimits ?? {})]);
  }

  /** The input token limit enforced for a model (null: none). */
  inputTokenLimit(model: string): number | null {
    return this.inputTokenLimits.get(model) ?? this.inputTokenLimits.get(model.replace(/-\d{3}$/, '')) ?? null;
  }

  get baseUrl(): string {
    if (!this.url) throw new Error('GeminiEmulator is not started');
    return this.url;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server && this.url) return this.url;
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        // A handler bug must not take the process down (the service runs this in-process).
        if (isOpen(res)) res.destroy();
      });
    });
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.url = `http://${urlHost(host)}:${address.port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.url = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    // Handlers sleeping on a delay wake up, see their socket gone and give up.
    for (const wake of [...this.wakers]) wake();
    await closed;
  }

  enqueue(...replies: ScriptedReply[]): void {
    this.queue.push(...replies);
  }

  setDefaultReply(reply: ScriptedReply): void {
    this.defaultReply = { ...reply };
  }

  reset(): void {
    this.queue.length = 0;
    // Emptied in place: callers may hold a reference to the array.
    this.requests.length = 0;
    this.uploads.length = 0;
    this.deletes.length = 0;
    this.defaultReply = { ...this.initialDefaultReply };
    this.files.clear();
    this.pendingUploads.clear();
    this.clockOffsetMs = 0;
    this.nextFileStates = [];
    this.fileErrors.length = 0;
  }

  /** The emulator's clock: the real one, moved on by `advanceClock`. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Moves the emulator's clock on: files uploaded more than 48 h before the new time are gone. */
  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  /** Expires one file now (`files/…`, its id or its URI), as Gemini does 48 h after its upload. */
  expireFile(nameOrUri: string): void {
    const id = FILE_URI.exec(nameOrUri.split('?')[0])?.[1] ?? nameOrUri;
    const file = this.files.get(id);
    if (file) file.expiresAt = this.now();
  }

  expireAllFiles(): void {
    for (const file of this.files.values()) file.expiresAt = this.now();
  }

  /** The files Gemini has now (unexpired, undeleted). */
  storedFiles(): { name: string; uri: string; mimeType: string; bytes: number; expiresAt: string }[] {
    this.pruneExpiredFiles();
    return [...this.files.values()].map((file) => ({
      name: `files/${file.id}`,
      uri: this.fileUri(file.id),
      mimeType: file.mimeType,
      bytes: file.data.length,
      expiresAt: new Date(file.expiresAt).toISOString(),
    }));
  }

  /**
   * The states the next uploaded file reports: each report (the upload's answer, then each
   * `files.get`) takes the next, the last one stays — e.g. `PROCESSING, ACTIVE`, or `FAILED`.
   * Default: ACTIVE at once.
   */
  scriptNextFileStates(...states: EmulatedFileState[]): void {
    this.nextFileStates = [...states];
  }

  /** The next Files API calls (upload start, chunk, get, delete, list) answer these HTTP errors, one each. */
  enqueueFileErrors(...statuses: number[]): void {
    this.fileErrors.push(...statuses);
  }

  generateRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.action === 'generateContent' || r.action === 'streamGenerateContent');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A client that hangs up mid-answer must not surface as an unhandled 'error'.
    req.on('error', () => undefined);
    res.on('error', () => undefined);

    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const match = ROUTE.exec(url.pathname);
    const filesMatch = FILES_ROUTE.exec(url.pathname);
    const isUpload = UPLOAD_ROUTE.test(url.pathname);
    const isChunk = isUpload && url.searchParams.has('upload_id');
    const apiVersion = match?.[1] ?? 'v1beta';
    const model = match ? safeDecode(match[2]).replace(/^models\//, '') : '';
    const action = match?.[3] ?? filesActionOf(req.method, isUpload, isChunk, filesMatch);
    const declared = Number(req.headers['content-length'] ?? 0);
    const { data, complete, tooLarge } =
      declared > this.maxBodyBytes ? { data: Buffer.alloc(0), complete: false, tooLarge: true } : await readBody(req, this.maxBodyBytes);
    if (tooLarge) return refuseTooLarge(res, this.maxBodyBytes);
    // An upload's bytes are not text: recorded in `uploads`, described here.
    const raw = isChunk ? '' : data.toString('utf8');
    let body: any = isChunk ? `<${data.length} bytes>` : raw.length > 0 ? raw : undefined;
    let bodyIsJson = false;
    try {
      body = JSON.parse(raw);
      bodyIsJson = true;
    } catch {
      // Recorded as text; rejected below once the route and key are known to be fine.
    }
    if (this.recordRequests) this.record(req, res, url, model, action, body);
    if (!complete || !isOpen(res)) return;

    const isFilesCall = action.startsWith('files.');
    if (!isFilesCall && (!match || req.method !== 'POST' || !ACTIONS.has(action))) {
      return sendError(res, 404, `Method not found: ${req.method} ${url.pathname}`);
    }
    const key = req.headers['x-goog-api-key'] ?? url.searchParams.get('key');
    if (typeof key !== 'string' || key.trim() === '') {
      return sendError(
        res,
        403,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    }
    if (isFilesCall) return this.handleFiles(req, res, url, action, filesMatch?.[2], data, bodyIsJson ? body : undefined);
    if (!bodyIsJson || !isObject(body)) {
      return sendError(res, 400, 'Invalid JSON payload received.');
    }
    if (RETIRED_MODELS.has(model) || model.includes('retired')) {
      return sendError(
        res,
        404,
        `models/${model} is not found for API version ${apiVersion}, or is not supported for ${action}. Call ListModels to see the list of available models and their supported methods.`,
      );
    }
    const request = action === 'countTokens' && isObject(body.generateContentRequest) ? body.generateContentRequest : body;
    const invalid = validateContents(request.contents);
    if (invalid) return sendError(res, 400, invalid);
    const resolved = this.resolveMedia(request.contents as unknown[]);
    if ('status' in resolved) return sendError(res, resolved.status, resolved.message);

    // countTokens and usageMetadata count alike (promptTokenCount): an estimate is what the turn then reports.
    const prompt = promptCount(request, model, resolved.media);
    if (action === 'countTokens') {
      return sendJson(res, 200, { totalTokens: prompt.total, promptTokensDetails: prompt.details });
    }
    const limit = this.inputTokenLimit(model);
    if (limit !== null && prompt.total > limit) {
      return sendError(res, 400, `The input token count (${prompt.total}) exceeds the maximum number of tokens allowed (${limit}).`);
    }

    const reply = this.queue.shift() ?? this.defaultReply;
    const isSse = action === 'streamGenerateContent' && url.searchParams.get('alt') === 'sse';
    if (reply.delayMs && reply.delayMs > 0) {
      if (!(await this.pause(reply.delayMs, res))) return;
    }
    const status = reply.status ?? 0;
    if (status >= 400 && !(isSse && reply.streamErrorAfterChunks !== undefined)) {
      return sendError(res, status, reply.errorMessage, reply.retryAfterSeconds);
    }
    if (!isSse && reply.streamErrorAfterChunks !== undefined) {
      return sendError(res, status >= 400 ? status : 500, reply.errorMessage, reply.retryAfterSeconds);
    }

    const answer = composeAnswer(body, model, reply, prompt, resolved.media);
    if (isSse) return this.sendStream(res, answer, reply);
    // Without alt=sse the real API streams one JSON array of the chunks.
    const payload = action === 'streamGenerateContent' ? streamChunks(answer, reply) : { ...responseBody(answer), ...reply.fields };
    return this.sendUnary(res, payload, reply);
  }

  /**
   * The media parts of a request, resolved to their bytes: inline data decoded, file URIs looked
   * up. Refused as Gemini refuses them: a type it does not take, bytes that are not base64, a
   * file it does not have (403, expired and deleted alike), a file not ACTIVE.
   */
  private resolveMedia(contents: unknown[]): { media: Map<unknown, ResolvedMedia> } | { status: number; message: string } {
    this.pruneExpiredFiles();
    const media = new Map<unknown, ResolvedMedia>();
    for (const [i, content] of contents.entries()) {
      for (const [j, part] of (content as { parts: unknown[] }).parts.entries()) {
        if (!isObject(part)) continue;
        if (part.inlineData !== undefined) {
          const { mimeType, data } = isObject(part.inlineData) ? part.inlineData : ({} as Record<string, unknown>);
          const modality = typeof mimeType === 'string' ? mediaModalityOf(mimeType) : null;
          if (!modality) return { status: 400, message: `Unsupported MIME type: ${String(mimeType).slice(0, 100)}` };
          if (typeof data !== 'string' || !(BASE64.test(data) || BASE64URL.test(data))) {
            return {
              status: 400,
              message: `Invalid value at 'contents[${i}].parts[${j}].inline_data.data' (TYPE_BYTES), Base64 decoding failed.`,
            };
          }
          const bytes = Buffer.from(data, 'base64');
          media.set(part, { mimeType: mimeType as string, modality, data: bytes, facts: mediaFactsOf(mimeType as string, bytes) });
        } else if (part.fileData !== undefined) {
          const uri = isObject(part.fileData) ? part.fileData.fileUri : undefined;
          const id = typeof uri === 'string' ? FILE_URI.exec(uri.split('?')[0])?.[1] : undefined;
          if (id === undefined) {
            return { status: 400, message: `Invalid value at 'contents[${i}].parts[${j}].file_data.file_uri': not a File URI.` };
          }
          const file = this.files.get(id);
          if (!file) return { status: 403, message: fileUnavailable(id) };
          if (file.states[0] !== 'ACTIVE') {
            return { status: 400, message: `The File ${id} is not in an ACTIVE state and usage is not allowed.` };
          }
          const modality = mediaModalityOf(file.mimeType) ?? 'document';
          media.set(part, { mimeType: file.mimeType, modality, data: file.data, facts: file.facts });
        }
      }
    }
    return { media };
  }

  /** The Files API: the resumable upload (start, chunks, finalize), get, delete, list. */
  private handleFiles(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    action: string,
    id: string | undefined,
    data: Buffer,
    body: unknown,
  ): void {
    this.pruneExpiredFiles();
    const scripted = this.fileErrors.shift();
    if (scripted !== undefined) return sendError(res, scripted);
    switch (action) {
      case 'files.upload':
        return this.startUpload(req, res, body);
      case 'files.upload.chunk':
        return this.receiveChunk(req, res, url.searchParams.get('upload_id') ?? '', data);
      case 'files.list': {
        const files = [...this.files.values()].map((file) => this.fileResource(file, false));
        return sendJson(res, 200, files.length > 0 ? { files } : {});
      }
    }
    const file = id === undefined ? undefined : this.files.get(safeDecode(id));
    if (!file) return sendError(res, 403, fileUnavailable(safeDecode(id ?? '')));
    if (action === 'files.get') return sendJson(res, 200, this.fileResource(file, true));
    this.files.delete(file.id);
    if (this.recordRequests) this.deletes.push(`files/${file.id}`);
    return sendJson(res, 200, {});
  }

  private startUpload(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    if (header(req, 'x-goog-upload-protocol') !== 'resumable' || header(req, 'x-goog-upload-command') !== 'start') {
      return sendError(
        res,
        400,
        'Only the resumable upload protocol is emulated (X-Goog-Upload-Protocol: resumable, X-Goog-Upload-Command: start).',
      );
    }
    const file = isObject(body) && isObject(body.file) ? body.file : {};
    const mimeType = header(req, 'x-goog-upload-header-content-type') ?? file.mimeType;
    if (typeof mimeType !== 'string' || !mediaModalityOf(mimeType)) {
      return sendError(res, 400, `Unsupported MIME type: ${String(mimeType).slice(0, 100)}`);
    }
    const declaredText = header(req, 'x-goog-upload-header-content-length') ?? file.sizeBytes;
    const declaredBytes = declaredText === undefined ? null : Number(declaredText);
    if (declaredBytes !== null && !(Number.isSafeInteger(declaredBytes) && declaredBytes >= 0 && declaredBytes <= MAX_FILE_BYTES)) {
      return sendError(res, 400, `The file size must be between 0 and ${MAX_FILE_BYTES} bytes.`);
    }
    const uploadId = randomBytes(24).toString('base64url');
    this.pendingUploads.set(uploadId, {
      displayName: typeof file.displayName === 'string' ? file.displayName : null,
      mimeType,
      declaredBytes,
      chunks: [],
      received: 0,
    });
    const uploadUrl = `${this.baseUrl}/upload/v1beta/files?upload_id=${uploadId}&upload_protocol=resumable`;
    return sendRaw(res, 200, 'text/plain; charset=utf-8', '', {
      'x-goog-upload-status': 'active',
      'x-goog-upload-url': uploadUrl,
      'x-goog-upload-control-url': uploadUrl,
      'x-goog-upload-chunk-granularity': String(UPLOAD_CHUNK_GRANULARITY),
    });
  }

  private receiveChunk(req: IncomingMessage, res: ServerResponse, uploadId: string, data: Buffer): void {
    const pending = this.pendingUploads.get(uploadId);
    if (!pending) return sendError(res, 404, 'The upload session was not found or has ended.');
    const commands = (header(req, 'x-goog-upload-command') ?? '').split(',').map((command) => command.trim());
    const offset = Number(header(req, 'x-goog-upload-offset') ?? pending.received);
    if (!commands.includes('upload') || offset !== pending.received || pending.received + data.length > MAX_FILE_BYTES) {
      this.pendingUploads.delete(uploadId);
      return sendRaw(res, 400, 'text/plain; charset=utf-8', 'Bad upload chunk.', { 'x-goog-upload-status': 'cancelled' });
    }
    pending.chunks.push(data);
    pending.received += data.length;
    if (!commands.includes('finalize')) return sendRaw(res, 200, 'text/plain; charset=utf-8', '', { 'x-goog-upload-status': 'active' });
    this.pendingUploads.delete(uploadId);
    const bytes = Buffer.concat(pending.chunks);
    if (pending.declaredBytes !== null && bytes.length !== pending.declaredBytes) {
      return sendRaw(res, 400, 'text/plain; charset=utf-8', 'The upload size differs from the size declared.', {
        'x-goog-upload-status': 'cancelled',
      });
    }
    const id = randomBytes(9).toString('base64url').toLowerCase().replace(/[-_]/g, 'x');
    const createdAt = this.now();
    const file: StoredFile = {
      id,
      displayName: pending.displayName,
      mimeType: pending.mimeType,
      data: bytes,
      facts: mediaFactsOf(pending.mimeType, bytes),
      // Gemini's sha256Hash is the base64 of the hex digest (as its published responses show).
      sha256: Buffer.from(createHash('sha256').update(bytes).digest('hex')).toString('base64'),
      createdAt,
      expiresAt: createdAt + FILE_LIFETIME_MS,
      states: this.nextFileStates.length > 0 ? this.nextFileStates : ['ACTIVE'],
    };
    this.nextFileStates = [];
    this.files.set(id, file);
    if (this.recordRequests) {
      this.uploads.push({
        name: `files/${id}`,
        displayName: file.displayName,
        mimeType: file.mimeType,
        data: bytes,
        receivedAt: Date.now(),
      });
    }
    return sendRaw(res, 200, 'application/json; charset=UTF-8', JSON.stringify({ file: this.fileResource(file, true) }), {
      'x-goog-upload-status': 'final',
    });
  }

  /** A file as the Files API describes it; `report`: this answer takes the file's next scripted state. */
  private fileResource(file: StoredFile, report: boolean): Record<string, unknown> {
    const state = file.states[0];
    if (report && file.states.length > 1) file.states = file.states.slice(1);
    const created = new Date(file.createdAt).toISOString();
    return {
      name: `files/${file.id}`,
      ...(file.displayName !== null ? { displayName: file.displayName } : {}),
      mimeType: file.mimeType,
      sizeBytes: String(file.data.length),
      createTime: created,
      updateTime: created,
      expirationTime: new Date(file.expiresAt).toISOString(),
      sha256Hash: file.sha256,
      uri: this.fileUri(file.id),
      state,
      source: 'UPLOADED',
      ...(state === 'FAILED' ? { error: { code: 3, message: 'The file could not be processed.' } } : {}),
    };
  }

  private fileUri(id: string): string {
    return `${this.url ?? 'http://emulator.invalid'}/v1beta/files/${id}`;
  }

  /** Gemini deletes its files 48 h after upload: past that (by the emulator's clock) they are gone. */
  private pruneExpiredFiles(): void {
    const now = this.now();
    for (const [id, file] of this.files) if (file.expiresAt <= now) this.files.delete(id);
  }

  private record(req: IncomingMessage, res: ServerResponse, url: URL, model: string, action: string, body: unknown): void {
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      model,
      action,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      body,
      receivedAt: Date.now(),
    };
    this.requests.push(record);
    res.once('close', () => {
      if (!res.writableFinished) record.clientGone = true;
    });
  }

  private async sendUnary(res: ServerResponse, payload: unknown, reply: ScriptedReply): Promise<void> {
    const json = JSON.stringify(payload);
    if (reply.malformed) {
      const truncated = json.slice(0, Math.max(1, Math.floor(json.length / 2)));
      return sendRaw(res, 200, 'application/json; charset=UTF-8', truncated);
    }
    if (reply.breakAfterChunks !== undefined) {
      // Full length announced, half delivered: the client sees a response die mid-body.
      res.writeHead(200, {
        'content-type': 'application/json; charset=UTF-8',
        'content-length': Buffer.byteLength(json),
      });
      await this.flush(res, json.slice(0, Math.floor(json.length / 2)));
      res.destroy();
      return;
    }
    return sendRaw(res, 200, 'application/json; charset=UTF-8', json);
  }

  private async sendStream(res: ServerResponse, answer: Answer, reply: ScriptedReply): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.flushHeaders();
    if (reply.malformed) {
      res.end('data: {"candidates":[{"content":{"role":"model","parts":[{"text":"\n\n');
      return;
    }
    const events = streamChunks(answer, reply).map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`);
    const chunkDelay = reply.chunkDelayMs ?? DEFAULT_CHUNK_DELAY_MS;
    const errorAfter = reply.streamErrorAfterChunks;
    const breakAfter = reply.breakAfterChunks;
    const stopAt = Math.min(events.length, errorAfter ?? Infinity, breakAfter ?? Infinity);

    for (let i = 0; i < stopAt; i++) {
      if (i > 0 && !(await this.pause(chunkDelay, res))) return;
      // Waiting for each write keeps a later destroy() from dropping chunks already "sent".
      await this.flush(res, events[i]);
      if (!isOpen(res)) return;
    }
    if (errorAfter !== undefined && errorAfter <= (breakAfter ?? Infinity)) {
      if (stopAt > 0 && !(await this.pause(chunkDelay, res))) return;
      const status = reply.status !== undefined && reply.status >= 400 ? reply.status : 500;
      res.end(`data: ${JSON.stringify(googleError(status, reply.errorMessage))}\n\n`);
      return;
    }
    if (breakAfter !== undefined) {
      res.destroy();
      return;
    }
    res.end();
  }

  /** Writes and resolves once the data left for the socket (or the socket is gone). */
  private flush(res: ServerResponse, data: string): Promise<void> {
    return new Promise((resolve) => {
      if (!isOpen(res)) return resolve();
      const done = (): void => {
        res.off('close', done);
        resolve();
      };
      res.once('close', done);
      res.write(data, done);
    });
  }

  /** Sleeps, waking early when the client leaves or the emulator stops; true if still connected. */
  private pause(ms: number, res: ServerResponse): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(isOpen(res));
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        res.off('close', wake);
        this.wakers.delete(wake);
        resolve(isOpen(res));
      };
      const timer = setTimeout(wake, ms);
      res.once('close', wake);
      this.wakers.add(wake);
    });
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** Google's answer to a request naming a file it does not have (expired, deleted, or never uploaded). */
function fileUnavailable(id: string): string {
  return `You do not have permission to access the File ${id} or it may not exist.`;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The Files API call a request is (`files.upload`, `files.upload.chunk`, `files.get`, `files.delete`, `files.list`), or ''. */
function filesActionOf(method: string | undefined, isUpload: boolean, isChunk: boolean, files: RegExpExecArray | null): string {
  if (isUpload) return method === 'POST' ? (isChunk ? 'files.upload.chunk' : 'files.upload') : '';
  if (!files) return '';
  if (files[2] === undefined) return method === 'GET' ? 'files.list' : '';
  if (method === 'GET') return 'files.get';
  return method === 'DELETE' ? 'files.delete' : '';
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The body, read up to `limit` bytes: past it, reading stops and nothing is kept. */
function readBody(req: IncomingMessage, limit: number): Promise<{ data: Buffer; complete: boolean; tooLarge: boolean }> {
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (complete: boolean, tooLarge = false): void => {
      if (settled) return;
      settled = true;
      resolve({ data: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), complete, tooLarge });
      chunks = [];
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.pause();
      settle(false, true);
    });
    req.on('end', () => settle(true));
    req.on('error', () => settle(false));
    req.on('close', () => settle(req.complete));
  });
}

/** Google's answer to an oversized request; the connection is closed rather than drained. */
function refuseTooLarge(res: ServerResponse, limit: number): void {
  if (!isOpen(res)) return;
  const body = JSON.stringify(googleError(400, `Request payload size exceeds the limit: ${limit} bytes.`), null, 2);
  res.writeHead(400, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body, () => res.socket?.destroy());
}

function validateContents(contents: unknown): string | undefined {
  if (!Array.isArray(contents) || contents.length === 0) {
    return '* GenerateContentRequest.contents: contents is not specified';
  }
  for (const [i, content] of contents.entries()) {
    if (!isObject(content) || !Array.isArray(content.parts) || content.parts.length === 0) {
      return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`;
    }
    if (content.role !== undefined && content.role !== 'user' && content.role !== 'model') {
      return 'Please use a valid role: user, model.';
    }
  }
  return undefined;
}

function composeAnswer(
  body: Record<string, any>,
  model: string,
  reply: ScriptedReply,
  prompt: PromptCount,
  media: Map<unknown, ResolvedMedia>,
): Answer {
  const config = isObject(body.generationConfig) ? body.generationConfig : {};
  const maxOutputTokens = typeof config.maxOutputTokens === 'number' && config.maxOutputTokens > 0 ? config.maxOutputTokens : undefined;
  const thinkingBudget = isObject(config.thinkingConfig) ? config.thinkingConfig.thinkingBudget : undefined;
  let text = reply.empty ? '' : (reply.text ?? defaultReplyText(body.contents as Content[], model, media));
  let finishReason = reply.finishReason ?? (reply.empty ? 'MAX_TOKENS' : 'STOP');
  if (!reply.empty && maxOutputTokens !== undefined && estimateTokens(text) > maxOutputTokens) {
    text = truncateToTokens(text, maxOutputTokens);
    finishReason = reply.finishReason ?? 'MAX_TOKENS';
  }
  const candidatesTokens = estimateTokens(text);

  let thoughtsTokens = 0;
  if (reply.thoughts !== undefined) {
    thoughtsTokens = Math.max(1, estimateTokens(reply.thoughts));
  } else if (THINKING_MODEL.test(model) && thinkingBudget !== 0) {
    // An empty answer on a thinking model is the "spent the whole budget thinking" case.
    thoughtsTokens = reply.empty && maxOutputTokens !== undefined ? maxOutputTokens : 2 * candidatesTokens + 10;
    if (typeof thinkingBudget === 'number' && thinkingBudget > 0) thoughtsTokens = Math.min(thoughtsTokens, thinkingBudget);
  }
  if (reply.blocked) thoughtsTokens = 0;

  return {
    blocked: reply.blocked,
    thoughts: reply.thoughts,
    functionCall: reply.functionCall,
    text,
    finishReason,
    prompt,
    thoughtsTokens,
    usage: buildUsage(prompt, reply.blocked ? 0 : candidatesTokens, thoughtsTokens, reply.usage, false),
    modelVersion: reply.modelVersion ?? model,
    responseId: randomBytes(16).toString('base64url').slice(0, 22),
  };
}

function blockedBody(answer: Answer): Record<string, unknown> {
  return {
    promptFeedback: { blockReason: answer.blocked },
    usageMetadata: answer.usage,
    modelVersion: answer.modelVersion,
    responseId: answer.responseId,
  };
}

function responseBody(answer: Answer): Record<string, unknown> {
  if (answer.blocked) return blockedBody(answer);
  const parts: Part[] = [];
  if (answer.thoughts !== undefined) parts.push({ text: answer.thoughts, thought: true });
  if (answer.functionCall) parts.push({ functionCall: answer.functionCall });
  else if (answer.text.length > 0) parts.push({ text: answer.text });
  return {
    candidates: [candidate(parts, answer.finishReason)],
    usageMetadata: answer.usage,
    modelVersion: answer.modelVersion,
    responseId: answer.responseId,
  };
}

function streamChunks(answer: Answer, reply: ScriptedReply): Record<string, unknown>[] {
  if (answer.blocked) return [{ ...blockedBody(answer), ...reply.fields }];
  const everyChunk = reply.usageOnEveryChunk ?? true;
  // Thinking comes first and on its own, as the real API streams it.
  const partsPerChunk: Part[][] = [];
  if (answer.thoughts !== undefined) partsPerChunk.push([{ text: answer.thoughts, thought: true }]);
  if (answer.functionCall) partsPerChunk.push([{ functionCall: answer.functionCall }]);
  else if (answer.text.length > 0) {
    for (const piece of splitForStream(answer.text, STREAM_CHUNKS)) partsPerChunk.push([{ text: piece }]);
  }
  if (partsPerChunk.length === 0) partsPerChunk.push([]);

  let soFar = '';
  return partsPerChunk.map((parts, i) => {
    const last = i === partsPerChunk.length - 1;
    soFar += parts
      .filter((p) => !p.thought)
      .map((p) => p.text ?? '')
      .join('');
    const chunk: Record<string, unknown> = { candidates: [candidate(parts, last ? answer.finishReason : undefined)] };
    if (last) {
      chunk.usageMetadata = answer.usage;
    } else if (everyChunk) {
      chunk.usageMetadata = buildUsage(answer.prompt, estimateTokens(soFar), answer.thoughtsTokens, reply.usage, true);
    }
    chunk.modelVersion = answer.modelVersion;
    chunk.responseId = answer.responseId;
    return { ...chunk, ...reply.fields };
  });
}

function sendRaw(res: ServerResponse, status: number, contentType: string, body: string, extra: Record<string, string> = {}): void {
  if (!isOpen(res)) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  sendRaw(res, status, 'application/json; charset=UTF-8', JSON.stringify(payload));
}

function sendError(res: ServerResponse, code: number, message?: string, retryAfterSeconds?: number): void {
  const extra: Record<string, string> = retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {};
  // Google pretty-prints its error bodies.
  sendRaw(res, code, 'application/json; charset=UTF-8', JSON.stringify(googleError(code, message, retryAfterSeconds), null, 2), extra);
}
