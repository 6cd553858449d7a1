import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadModelTable } from '../../models/model-table.js';

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

function partTokens(part: unknown): number {
  const text = isObject(part) && typeof part.text === 'string' ? part.text : '';
  return Math.max(1, estimateTokens(text));
}

function contentTokens(content: unknown): number {
  const parts = isObject(content) && Array.isArray(content.parts) ? content.parts : [];
  return parts.reduce((sum: number, part: unknown) => sum + partTokens(part), 0);
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

function defaultReplyText(contents: Content[], model: string): string {
  const userTurns = contents.filter(isUserTurn);
  const lastText = textOf(userTurns[userTurns.length - 1]).trim() || '(no text)';
  return (
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
  prompt: number,
  candidates: number,
  thoughts: number,
  override: EmulatorUsage | undefined,
  partial: boolean,
): EmulatorUsage {
  const o = override ?? {};
  const pick = <K extends keyof EmulatorUsage>(key: K, computed: EmulatorUsage[K]): EmulatorUsage[K] =>
    o[key] !== undefined ? o[key] : computed;

  const promptTokenCount = pick('promptTokenCount', prompt) ?? 0;
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
  usage.promptTokensDetails = o.promptTokensDetails ?? [{ modality: 'TEXT', tokenCount: promptTokenCount }];
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
  promptTokens: number;
  thoughtsTokens: number;
  usage: EmulatorUsage;
  modelVersion: string;
  responseId: string;
}

export class GeminiEmulator {
  /** What was received, oldest first: only with `recordRequests`. */
  readonly requests: RecordedRequest[] = [];
  private readonly recordRequests: boolean;
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
    this.defaultReply = { ...this.initialDefaultReply };
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
    const apiVersion = match?.[1] ?? 'v1beta';
    const model = match ? safeDecode(match[2]).replace(/^models\//, '') : '';
    const action = match?.[3] ?? '';
    const declared = Number(req.headers['content-length'] ?? 0);
    const { raw, complete, tooLarge } =
      declared > this.maxBodyBytes ? { raw: '', complete: false, tooLarge: true } : await readBody(req, this.maxBodyBytes);
    if (tooLarge) return refuseTooLarge(res, this.maxBodyBytes);
    let body: any = raw.length > 0 ? raw : undefined;
    let bodyIsJson = false;
    try {
      body = JSON.parse(raw);
      bodyIsJson = true;
    } catch {
      // Recorded as text; rejected below once the route and key are known to be fine.
    }
    if (this.recordRequests) this.record(req, res, url, model, action, body);
    if (!complete || !isOpen(res)) return;

    if (!match || req.method !== 'POST' || !ACTIONS.has(action)) {
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

    // countTokens and usageMetadata count alike (promptTokenCount): an estimate is what the turn then reports.
    const promptTokens = promptTokenCount(request);
    if (action === 'countTokens') {
      return sendJson(res, 200, { totalTokens: promptTokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }] });
    }
    const limit = this.inputTokenLimit(model);
    if (limit !== null && promptTokens > limit) {
      return sendError(res, 400, `The input token count (${promptTokens}) exceeds the maximum number of tokens allowed (${limit}).`);
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

    const answer = composeAnswer(body, model, reply);
    if (isSse) return this.sendStream(res, answer, reply);
    // Without alt=sse the real API streams one JSON array of the chunks.
    const payload = action === 'streamGenerateContent' ? streamChunks(answer, reply) : { ...responseBody(answer), ...reply.fields };
    return this.sendUnary(res, payload, reply);
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

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The body as text, read up to `limit` bytes: past it, reading stops and nothing is kept. */
function readBody(req: IncomingMessage, limit: number): Promise<{ raw: string; complete: boolean; tooLarge: boolean }> {
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (complete: boolean, tooLarge = false): void => {
      if (settled) return;
      settled = true;
      resolve({ raw: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), complete, tooLarge });
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

function promptTokenCount(request: Record<string, any>): number {
  const system = isObject(request.systemInstruction) ? contentTokens(request.systemInstruction) : 0;
  const contents = (request.contents as unknown[]).reduce((sum: number, c) => sum + contentTokens(c), 0);
  return system + contents;
}

function composeAnswer(body: Record<string, any>, model: string, reply: ScriptedReply): Answer {
  const config = isObject(body.generationConfig) ? body.generationConfig : {};
  const maxOutputTokens = typeof config.maxOutputTokens === 'number' && config.maxOutputTokens > 0 ? config.maxOutputTokens : undefined;
  const thinkingBudget = isObject(config.thinkingConfig) ? config.thinkingConfig.thinkingBudget : undefined;
  const promptTokens = promptTokenCount(body);

  let text = reply.empty ? '' : (reply.text ?? defaultReplyText(body.contents as Content[], model));
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
    promptTokens,
    thoughtsTokens,
    usage: buildUsage(promptTokens, reply.blocked ? 0 : candidatesTokens, thoughtsTokens, reply.usage, false),
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
      chunk.usageMetadata = buildUsage(answer.promptTokens, estimateTokens(soFar), answer.thoughtsTokens, reply.usage, true);
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
