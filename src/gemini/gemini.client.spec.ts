import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { ApiError } from '@google/genai';
import { DomainError, ErrorCode, UpstreamFileUnavailable } from '../common/errors.js';
import { parseEnvironment } from '../config/environment.js';
import type { AppConfig } from '../config/app.config.js';
import { Metrics } from '../metrics/metrics.js';
import { ModelCatalog } from '../models/model-catalog.js';
import { GeminiEmulator } from './emulator/gemini-emulator.js';
import type { RecordedRequest } from './emulator/gemini-emulator.js';
import { pdf, png } from '../../test/support/file-samples.js';
import { FILE_LIFETIME_MS } from './emulator/gemini-emulator.js';
import { GeminiClient, retryDelayMs } from './gemini.client.js';
import { promptCharsOf } from './llm-client.js';
import type { LlmRequest } from './llm-client.js';

// GeminiClient is checked through the real @google/genai SDK over loopback HTTP against the
// emulator: what a caller notices (the result or the domain error code) and what reached Gemini.

const MODEL = 'gemini-2.5-flash';
/** Upstream error text that must never reach a log line or a client. */
const SECRET = 'upstream-secret-detail-4711';

interface ClientSettings {
  timeoutMs?: number;
  retries?: number;
  maxOutputTokens?: number;
}

function requestOf(overrides: Partial<LlmRequest> = {}): LlmRequest {
  return {
    model: MODEL,
    contents: [{ role: 'user', text: 'Hello there' }],
    systemInstruction: null,
    ...overrides,
  };
}

/** Resolves once `condition` holds: for state the emulator sets on a socket event it does not expose. */
async function until(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Runs `work` to its end and says how long it took; `outcome` is `work`, for expect(…).resolves/rejects. */
async function timed<T>(work: Promise<T>): Promise<{ outcome: Promise<T>; elapsedMs: number }> {
  const startedAt = performance.now();
  await work.then(
    () => undefined,
    () => undefined,
  );
  return { outcome: work, elapsedMs: performance.now() - startedAt };
}

function gapMs(requests: RecordedRequest[], from: number, to: number): number {
  return requests[to].receivedAt - requests[from].receivedAt;
}

/** The upstream body as the SDK 2.x puts it in ApiError.message (JSON.stringify of the body). */
function apiError(status: number, details: object[] | undefined = undefined, doubleEncoded = false): ApiError {
  const body = JSON.stringify({ error: { code: status, message: SECRET, status: 'X', ...(details ? { details } : {}) } });
  return new ApiError({ status, message: doubleEncoded ? `got status: X. ${JSON.stringify(body)}` : body });
}

const retryInfo = (delay: string) => [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay }];

describe(GeminiClient.name, () => {
  const emulator = new GeminiEmulator({ recordRequests: true });
  let baseUrl: string;
  let warnings: string[];

  /** The metrics of the last client made. */
  let metrics: Metrics;
  const metricsFor = (config: AppConfig) => (metrics = new Metrics(config, new ModelCatalog(config), { pool: () => null }));
  /** The samples of one series of those metrics. */
  const counted = async (name: string) => {
    const all = await metrics.registry.getMetricsAsJSON();
    // A histogram's samples name their series (`…_count`, `…_bucket`); a counter's are the metric's.
    const samples = all.flatMap((metric) =>
      metric.values.map((value) => ({ name: (value as { metricName?: string }).metricName ?? metric.name, ...value })),
    );
    return samples.filter((sample) => sample.name === name).map(({ labels, value }) => ({ labels, value }));
  };

  const clientWith = ({ timeoutMs = 5000, retries = 2, maxOutputTokens = 8192 }: ClientSettings = {}) => {
    const config = parseEnvironment({
      GEMINI_BASE_URL: baseUrl,
      GEMINI_API_KEY: 'test-key',
      GEMINI_TIMEOUT_MS: String(timeoutMs),
      GEMINI_RETRIES: String(retries),
      GEMINI_MAX_OUTPUT_TOKENS: String(maxOutputTokens),
    });
    return new GeminiClient(config, { mode: 'configured', apiKey: 'test-key', baseUrl, close: async () => undefined }, metricsFor(config));
  };

  beforeAll(async () => {
    baseUrl = await emulator.start(0, '127.0.0.1');
  });

  afterAll(async () => {
    await emulator.stop();
  });

  beforeEach(() => {
    emulator.reset();
    warnings = [];
    // Each failed attempt is logged; kept to check what the log says, and out of the test output.
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('generate', () => {
    it('answers with the text, usage, finish reason and model version of one upstream call', async () => {
      emulator.enqueue({
        text: 'Fine, thanks.',
        modelVersion: 'gemini-2.5-flash-002',
        usage: { promptTokenCount: 12, candidatesTokenCount: 4, thoughtsTokenCount: 9 },
      });

      await expect(clientWith().generate(requestOf())).resolves.toEqual({
        text: 'Fine, thanks.',
        usage: {
          promptTokens: 12,
          cachedTokens: 0,
          outputTokens: 4,
          thoughtsTokens: 9,
          toolPromptTokens: 0,
          audioPromptTokens: 0,
          audioCachedTokens: 0,
          totalTokens: 25,
        },
        finishReason: 'STOP',
        modelVersion: 'gemini-2.5-flash-002',
        modelVersionRejected: false,
        failure: null,
        complete: true,
      });
      expect(emulator.generateRequests()).toHaveLength(1);
    });

    it('sends the whole conversation in order with roles, the system instruction and GEMINI_MAX_OUTPUT_TOKENS', async () => {
      const request = requestOf({
        contents: [
          { role: 'user', text: 'First question' },
          { role: 'model', text: 'First answer' },
          { role: 'user', text: 'Second question' },
        ],
        systemInstruction: 'Answer in one sentence.',
      });

      await expect(clientWith({ maxOutputTokens: 321 }).generate(request)).resolves.toMatchObject({ text: expect.any(String) });

      const [sent] = emulator.generateRequests();
      expect(sent).toMatchObject({ method: 'POST', path: `/v1beta/models/${MODEL}:generateContent`, action: 'generateContent' });
      expect(sent.headers['x-goog-api-key']).toBe('test-key');
      expect(sent.body.contents).toEqual([
        { role: 'user', parts: [{ text: 'First question' }] },
        { role: 'model', parts: [{ text: 'First answer' }] },
        { role: 'user', parts: [{ text: 'Second question' }] },
      ]);
      expect(sent.body.systemInstruction).toMatchObject({ parts: [{ text: 'Answer in one sentence.' }] });
      expect(sent.body.generationConfig).toMatchObject({ maxOutputTokens: 321 });
    });

    it('sends no system instruction when the session has none', async () => {
      await expect(clientWith().generate(requestOf({ systemInstruction: null }))).resolves.toMatchObject({ text: expect.any(String) });

      const [sent] = emulator.generateRequests();
      expect(sent.body).not.toHaveProperty('systemInstruction');
      expect(sent.body.contents).toEqual([{ role: 'user', parts: [{ text: 'Hello there' }] }]);
    });

    it.each([
      ['a 429', 429],
      ['a 503', 503],
    ])('retries %s and answers once, after two upstream calls', async (_name, status) => {
      emulator.enqueue({ status }, { text: 'Second time lucky.' });

      await expect(clientWith({ retries: 2 }).generate(requestOf())).resolves.toMatchObject({ text: 'Second time lucky.' });

      const calls = emulator.generateRequests();
      expect(calls).toHaveLength(2);
      expect(calls[1].body).toEqual(calls[0].body);
      expect(warnings).toEqual([expect.stringMatching(/attempt 1 failed.*retrying in \d+ ms/)]);
    });

    it('waits at least the delay Gemini asks for in RetryInfo before calling again', async () => {
      emulator.enqueue({ status: 429, retryAfterSeconds: 0.4 }, { text: 'After the pause.' });

      await expect(clientWith().generate(requestOf())).resolves.toMatchObject({ text: 'After the pause.' });

      const calls = emulator.generateRequests();
      expect(calls).toHaveLength(2);
      expect(gapMs(calls, 0, 1)).toBeGreaterThanOrEqual(400);
      expect(warnings).toEqual([expect.stringContaining('retrying in 400 ms')]);
      // Each attempt is counted: the refused one by Gemini's status, the answered one as ok.
      expect(await counted('gemini_chat_upstream_errors_total')).toEqual([
        { labels: { method: 'generateContent', status: '429', code: 'UPSTREAM_RATE_LIMITED' }, value: 1 },
      ]);
      expect(await counted('gemini_chat_upstream_duration_seconds_count')).toEqual([
        { labels: { method: 'generateContent', outcome: 'error' }, value: 1 },
        { labels: { method: 'generateContent', outcome: 'ok' }, value: 1 },
      ]);
    });

    it('does not retry a 500 (the call may already be billed): UPSTREAM_ERROR after one call', async () => {
      emulator.enqueue({ status: 500, errorMessage: SECRET }, { text: 'A retry would have reached me.' });

      await expect(clientWith({ retries: 2 }).generate(requestOf())).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_ERROR,
        message: 'Gemini failed to answer (HTTP 500).',
      });
      expect(emulator.generateRequests()).toHaveLength(1);
      // The upstream body stays out of the log (it may echo the prompt).
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('UPSTREAM_ERROR');
      expect(warnings[0]).not.toContain(SECRET);
    });

    it('does not retry a 400: UPSTREAM_ERROR after one call', async () => {
      emulator.enqueue({ status: 400 }, { text: 'A retry would have reached me.' });

      await expect(clientWith({ retries: 2 }).generate(requestOf())).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_ERROR,
        message: 'Gemini rejected the request (HTTP 400).',
      });
      expect(emulator.generateRequests()).toHaveLength(1);
    });

    it('does not retry a 404 and names the model and GEMINI_MODEL', async () => {
      const model = 'gemini-1.5-flash'; // retired: the emulator answers 404 NOT_FOUND

      const outcome = clientWith({ retries: 2 }).generate(requestOf({ model }));

      await expect(outcome).rejects.toBeInstanceOf(DomainError);
      await expect(outcome).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_ERROR,
        message: expect.stringMatching(/"gemini-1\.5-flash".*GEMINI_MODEL/),
      });
      const calls = emulator.generateRequests();
      expect(calls).toHaveLength(1);
      expect(calls[0].model).toBe(model);
    });

    it('gives up after GEMINI_RETRIES retries with UPSTREAM_RATE_LIMITED and the last RetryInfo', async () => {
      emulator.enqueue(
        { status: 429, retryAfterSeconds: 0.05 },
        { status: 429, retryAfterSeconds: 0.05 },
        { status: 429, retryAfterSeconds: 7 },
        { text: 'A fourth call would have reached me.' },
      );

      await expect(clientWith({ retries: 2 }).generate(requestOf())).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_RATE_LIMITED,
        retryAfterSeconds: 7,
      });
      expect(emulator.generateRequests()).toHaveLength(3);
      expect(warnings).toHaveLength(3);
      expect(warnings[2]).not.toContain('retrying');
    });

    it('makes exactly one call with GEMINI_RETRIES=0', async () => {
      emulator.enqueue({ status: 429 }, { text: 'A retry would have reached me.' });

      await expect(clientWith({ retries: 0 }).generate(requestOf())).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_RATE_LIMITED,
        retryAfterSeconds: 30, // no RetryInfo: the default
      });
      expect(emulator.generateRequests()).toHaveLength(1);
    });

    it('fails fast with the 429 when the hinted delay would pass the deadline', async () => {
      emulator.enqueue({ status: 429, retryAfterSeconds: 10 }, { text: 'A retry would have reached me.' });

      const { outcome, elapsedMs } = await timed(clientWith({ timeoutMs: 1500, retries: 2 }).generate(requestOf()));

      await expect(outcome).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_RATE_LIMITED, retryAfterSeconds: 10 });
      expect(emulator.generateRequests()).toHaveLength(1);
      expect(elapsedMs).toBeLessThan(1000);
    });

    it('times out a reply slower than GEMINI_TIMEOUT_MS, naming the deadline, and hangs up on Gemini', async () => {
      emulator.enqueue({ delayMs: 3000 });

      const { outcome, elapsedMs } = await timed(clientWith({ timeoutMs: 300, retries: 2 }).generate(requestOf()));

      await expect(outcome).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_TIMEOUT,
        message: expect.stringContaining('300 ms'),
      });
      expect(elapsedMs).toBeGreaterThanOrEqual(295);
      expect(elapsedMs).toBeLessThan(1500);
      const calls = emulator.generateRequests();
      expect(calls).toHaveLength(1);
      await until(() => calls[0].clientGone === true, 'the emulator saw the request abandoned');
      expect(calls[0].clientGone).toBe(true);
    });

    it('bounds all attempts together by the deadline, backoff included', async () => {
      emulator.enqueue({ status: 429, retryAfterSeconds: 0.25 }, { status: 429, retryAfterSeconds: 0.25 }, { delayMs: 3000 });

      const { outcome, elapsedMs } = await timed(clientWith({ timeoutMs: 1000, retries: 5 }).generate(requestOf()));

      await expect(outcome).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_TIMEOUT,
        message: expect.stringContaining('1000 ms'),
      });
      // A per-attempt deadline would end after 0.5 s of backoff plus a full second.
      expect(elapsedMs).toBeGreaterThanOrEqual(995);
      expect(elapsedMs).toBeLessThan(1350);
      const calls = emulator.generateRequests();
      expect(calls).toHaveLength(3);
      await until(() => calls[2].clientGone === true, 'the emulator saw the last attempt abandoned');
      expect(calls[2].clientGone).toBe(true);
    });
  });

  describe('retry budget', () => {
    it('answers the 429 with its Retry-After rather than retry with too little of the deadline left', async () => {
      emulator.enqueue({ status: 429, retryAfterSeconds: 0.9 }, { text: 'would arrive with 100 ms to spare' });

      const { outcome, elapsedMs } = await timed(clientWith({ timeoutMs: 1000 }).generate(requestOf()));

      await expect(outcome).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_RATE_LIMITED, retryAfterSeconds: 1 });
      expect(elapsedMs).toBeLessThan(500);
      expect(emulator.generateRequests()).toHaveLength(1);
    });

    it('leaves no abort listeners piling up on one signal, however many retries', async () => {
      // Net 'abort' listeners per signal, as the client and the SDK add and remove them.
      const listening = new Map<EventTarget, number>();
      let peak = 0;
      const add = EventTarget.prototype.addEventListener;
      const remove = EventTarget.prototype.removeEventListener;
      jest.spyOn(EventTarget.prototype, 'addEventListener').mockImplementation(function (this: EventTarget, type, ...rest) {
        if (type === 'abort') {
          listening.set(this, (listening.get(this) ?? 0) + 1);
          peak = Math.max(peak, listening.get(this)!);
        }
        return add.call(this, type, ...rest);
      });
      jest.spyOn(EventTarget.prototype, 'removeEventListener').mockImplementation(function (this: EventTarget, type, ...rest) {
        if (type === 'abort') listening.set(this, (listening.get(this) ?? 1) - 1);
        return remove.call(this, type, ...rest);
      });
      emulator.enqueue(...Array.from({ length: 10 }, () => ({ status: 429, retryAfterSeconds: 0.01 })), { text: 'at last' });

      await expect(clientWith({ retries: 10, timeoutMs: 5000 }).generate(requestOf())).resolves.toMatchObject({ text: 'at last' });

      expect(emulator.generateRequests()).toHaveLength(11);
      expect(peak).toBeLessThanOrEqual(3);
    });
  });

  describe('countTokens', () => {
    it('counts the contents with the system instruction as a leading user content (the SDK refuses it in countTokens)', async () => {
      const tokens = await clientWith().countTokens(
        requestOf({ systemInstruction: 'Be brief.', contents: [{ role: 'user', text: 'x'.repeat(40) }] }),
      );
      expect(tokens).toBe(3 + 10);
      const [call] = emulator.requests;
      expect(call.action).toBe('countTokens');
      expect(
        call.body.contents.map((content: { role: string; parts: { text: string }[] }) => [content.role, content.parts[0].text]),
      ).toEqual([
        ['user', 'Be brief.'],
        ['user', 'x'.repeat(40)],
      ]);
      expect(emulator.generateRequests()).toEqual([]);
    });

    it('maps its failures like a generate call', async () => {
      const unreachable = 'http://127.0.0.1:1';
      const config = parseEnvironment({ GEMINI_BASE_URL: unreachable, GEMINI_API_KEY: 'k', GEMINI_RETRIES: '0' });
      const client = new GeminiClient(
        config,
        { mode: 'configured', apiKey: 'k', baseUrl: unreachable, close: async () => undefined },
        metricsFor(config),
      );
      await expect(client.countTokens(requestOf())).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_ERROR,
        message: 'Gemini could not be reached.',
      });
    });
  });

  describe("Gemini's context limit", () => {
    it('is CONTEXT_TOO_LONG with the count and the limit Gemini named, not a 502', async () => {
      emulator.enqueue({
        status: 400,
        errorMessage: 'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).',
      });
      const refusal = clientWith().generate(requestOf());
      await expect(refusal).rejects.toMatchObject({ code: ErrorCode.CONTEXT_TOO_LONG, promptTokens: 1_048_577, limit: 1_048_576 });
      await expect(refusal).rejects.not.toMatchObject({ message: expect.stringContaining('exceeds') });
    });
  });

  describe('stream', () => {
    it('delivers each piece once through onDelta and uses the last chunk’s usage, not the sum', async () => {
      emulator.enqueue({
        text: 'alpha beta gamma delta',
        usage: { promptTokenCount: 12, candidatesTokenCount: 40, thoughtsTokenCount: 25 },
      });
      const deltas: string[] = [];

      await expect(clientWith().stream(requestOf(), (text) => deltas.push(text))).resolves.toEqual({
        text: 'alpha beta gamma delta',
        usage: {
          promptTokens: 12,
          cachedTokens: 0,
          outputTokens: 40,
          thoughtsTokens: 25,
          toolPromptTokens: 0,
          audioPromptTokens: 0,
          audioCachedTokens: 0,
          totalTokens: 77,
        },
        finishReason: 'STOP',
        modelVersion: MODEL,
        modelVersionRejected: false,
        failure: null,
        complete: true,
      });
      expect(deltas).toEqual(['alpha ', 'beta ', 'gamma ', 'delta']);
      const calls = emulator.generateRequests();
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ action: 'streamGenerateContent', query: { alt: 'sse' } });
    });

    it('retries a 429 answered before the stream began', async () => {
      emulator.enqueue({ status: 429, retryAfterSeconds: 0.05 }, { text: 'one two' });
      const deltas: string[] = [];

      await expect(clientWith().stream(requestOf(), (text) => deltas.push(text))).resolves.toMatchObject({ text: 'one two' });

      expect(deltas).toEqual(['one ', 'two']);
      expect(emulator.generateRequests()).toHaveLength(2);
      // The first text is timed once, however many attempts it took.
      expect(await counted('gemini_chat_time_to_first_delta_seconds_count')).toEqual([{ labels: {}, value: 1 }]);
    });

    it('retries a 429 sent in the stream before any text', async () => {
      emulator.enqueue({ status: 429, streamErrorAfterChunks: 0 }, { text: 'one two' });
      const deltas: string[] = [];

      await expect(clientWith().stream(requestOf(), (text) => deltas.push(text))).resolves.toMatchObject({ text: 'one two' });

      expect(deltas).toEqual(['one ', 'two']);
      expect(emulator.generateRequests()).toHaveLength(2);
    });

    it('does not retry an error after text was delivered: a paid UPSTREAM_ERROR after one call, each delta once', async () => {
      // 503 is retryable before any text; here only the delivered text stops the retry. The pause
      // keeps each SSE event in its own read (the SDK drops a data event read together with an error).
      emulator.enqueue(
        { text: 'alpha beta gamma delta', status: 503, streamErrorAfterChunks: 2, chunkDelayMs: 60 },
        { text: 'A retry would repeat what the user already saw.' },
      );
      const deltas: string[] = [];

      // The chunks that arrived carried usage: the call resolves with it, so its spend is recorded.
      await expect(clientWith({ retries: 2 }).stream(requestOf(), (text) => deltas.push(text))).resolves.toMatchObject({
        text: 'alpha beta ',
        usage: expect.objectContaining({ outputTokens: expect.any(Number) }),
        failure: expect.objectContaining({ code: ErrorCode.UPSTREAM_ERROR, message: 'Gemini failed to answer (HTTP 503).' }),
        complete: false,
      });
      expect(deltas).toEqual(['alpha ', 'beta ']);
      expect(emulator.generateRequests()).toHaveLength(1);
    });

    it('does not retry a stream that failed after thinking, before any text: the model ran and is billed', async () => {
      emulator.enqueue(
        { thoughts: 'pondering at length', text: 'alpha beta', status: 503, streamErrorAfterChunks: 1, chunkDelayMs: 60 },
        { text: 'A retry would be a second paid call.' },
      );
      const deltas: string[] = [];

      await expect(clientWith({ retries: 2 }).stream(requestOf(), (text) => deltas.push(text))).resolves.toMatchObject({
        text: '',
        usage: expect.objectContaining({ thoughtsTokens: expect.any(Number) }),
        failure: expect.objectContaining({ code: ErrorCode.UPSTREAM_ERROR }),
        complete: false,
      });
      expect(deltas).toEqual([]);
      expect(emulator.generateRequests()).toHaveLength(1);
    });

    it('times out a stream that outlasts GEMINI_TIMEOUT_MS after delivering text, keeping the usage reported so far', async () => {
      emulator.enqueue({ text: 'alpha beta gamma delta', chunkDelayMs: 10_000 });
      const deltas: string[] = [];

      await expect(clientWith({ timeoutMs: 300 }).stream(requestOf(), (text) => deltas.push(text))).resolves.toMatchObject({
        failure: expect.objectContaining({ code: ErrorCode.UPSTREAM_TIMEOUT, message: expect.stringContaining('300 ms') }),
        usage: expect.objectContaining({ promptTokens: expect.any(Number) }),
        complete: false,
      });
      expect(deltas).toEqual(['alpha ']);
      const calls = emulator.generateRequests();
      expect(calls).toHaveLength(1);
      await until(() => calls[0].clientGone === true, 'the emulator saw the stream abandoned');
      expect(calls[0].clientGone).toBe(true);
    });
  });
  describe('media and the Files API', () => {
    const image = png(3, 800, 400);
    const document = pdf(3);

    it('sends a turn’s files before its text: inline bytes, file URIs, notes for deleted files', async () => {
      const client = clientWith();
      const uploaded = await client.uploadFile({ data: document, mimeType: 'application/pdf', displayName: 'report.pdf' });
      const request = requestOf({
        contents: [
          {
            role: 'user',
            text: 'Compare them.',
            media: [
              { kind: 'inline', mimeType: 'image/png', data: image },
              { kind: 'uri', mimeType: 'application/pdf', uri: uploaded.uri },
              { kind: 'note', text: '[The file old.csv was deleted.]' },
            ],
          },
        ],
      });

      await expect(client.generate(request)).resolves.toMatchObject({ failure: null });
      await expect(client.countTokens(request)).resolves.toEqual(expect.any(Number));

      const [generated, counted] = emulator.requests.filter((r) => r.action === 'generateContent' || r.action === 'countTokens');
      const parts = generated.body.contents[0].parts;
      expect(parts).toEqual([
        { inlineData: { mimeType: 'image/png', data: expect.any(String) } },
        { fileData: { mimeType: 'application/pdf', fileUri: uploaded.uri } },
        { text: '[The file old.csv was deleted.]' },
        { text: 'Compare them.' },
      ]);
      expect(Buffer.from(parts[0].inlineData.data, 'base64').equals(image)).toBe(true);
      expect(counted.body.contents).toEqual(generated.body.contents);
    });

    it('sends only the files of a turn without text (Gemini refuses an empty text part)', async () => {
      const request = requestOf({
        contents: [{ role: 'user', text: '', media: [{ kind: 'inline', mimeType: 'image/png', data: image }] }],
      });

      await expect(clientWith().generate(request)).resolves.toMatchObject({ text: expect.stringMatching(/^I received 1 image\./) });
      expect(emulator.generateRequests()[0].body.contents).toEqual([
        { role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: image.toString('base64') } }] },
      ]);
    });

    it('reports usage with the media counted (258 a tile on 2.x)', async () => {
      const request = requestOf({
        contents: [{ role: 'user', text: 'Hi!', media: [{ kind: 'inline', mimeType: 'image/png', data: image }] }],
      });
      // 800×400: 2×1 tiles; "Hi!": 1 token.
      await expect(clientWith().generate(request)).resolves.toMatchObject({ usage: { promptTokens: 517 } });
      await expect(clientWith().countTokens(request)).resolves.toBe(517);
    });

    it('uploads the bytes and answers the file’s name, URI, type and expiry', async () => {
      const before = Date.now();
      const uploaded = await clientWith().uploadFile({ data: document, mimeType: 'application/pdf', displayName: 'report.pdf' });

      expect(uploaded).toEqual({
        name: expect.stringMatching(/^files\//),
        uri: `${baseUrl}/v1beta/${uploaded.name}`,
        mimeType: 'application/pdf',
        expiresAt: expect.any(String),
      });
      expect(Date.parse(uploaded.expiresAt) - before).toBeGreaterThan(FILE_LIFETIME_MS - 60_000);
      expect(Date.parse(uploaded.expiresAt) - before).toBeLessThanOrEqual(FILE_LIFETIME_MS + 1000);
      expect(emulator.uploads).toEqual([
        { name: uploaded.name, displayName: 'report.pdf', mimeType: 'application/pdf', data: document, receivedAt: expect.any(Number) },
      ]);
      expect(await counted('gemini_chat_upstream_duration_seconds_count')).toEqual([
        { labels: { method: 'files.upload', outcome: 'ok' }, value: 1 },
      ]);
    });

    it('waits while Gemini says PROCESSING, then answers the ACTIVE file', async () => {
      emulator.scriptNextFileStates('PROCESSING', 'PROCESSING', 'ACTIVE');
      await expect(clientWith().uploadFile({ data: image, mimeType: 'image/png', displayName: 'a.png' })).resolves.toMatchObject({
        name: expect.stringMatching(/^files\//),
      });
      expect(emulator.requests.filter((r) => r.action === 'files.get')).toHaveLength(2);
    });

    it('fails with UPSTREAM_ERROR when Gemini could not process the file', async () => {
      emulator.scriptNextFileStates('PROCESSING', 'FAILED');
      await expect(clientWith().uploadFile({ data: image, mimeType: 'image/png', displayName: 'a.png' })).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_ERROR,
        message: 'Gemini could not process the uploaded file.',
      });
    });

    it('gives up polling at GEMINI_TIMEOUT_MS', async () => {
      emulator.scriptNextFileStates('PROCESSING');
      await expect(
        clientWith({ timeoutMs: 400 }).uploadFile({ data: image, mimeType: 'image/png', displayName: 'a.png' }),
      ).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_TIMEOUT });
    });

    it('retries an upload Gemini refused with 503, once', async () => {
      emulator.enqueueFileErrors(503);
      await expect(clientWith().uploadFile({ data: image, mimeType: 'image/png', displayName: 'a.png' })).resolves.toMatchObject({
        name: expect.stringMatching(/^files\//),
      });
      expect(emulator.uploads).toHaveLength(1);
      expect(await counted('gemini_chat_upstream_errors_total')).toEqual([
        { labels: { method: 'files.upload', status: '503', code: 'UPSTREAM_ERROR' }, value: 1 },
      ]);
    });

    it('answers UpstreamFileUnavailable naming the URI, once, without a retry, when Gemini no longer has the file', async () => {
      const client = clientWith();
      const kept = await client.uploadFile({ data: image, mimeType: 'image/png', displayName: 'kept.png' });
      const gone = await client.uploadFile({ data: document, mimeType: 'application/pdf', displayName: 'gone.pdf' });
      const request = requestOf({
        contents: [
          {
            role: 'user',
            text: 'And these?',
            media: [
              { kind: 'uri', mimeType: 'image/png', uri: kept.uri },
              { kind: 'uri', mimeType: 'application/pdf', uri: gone.uri },
            ],
          },
        ],
      });
      await expect(client.generate(request)).resolves.toMatchObject({ failure: null });

      emulator.expireFile(gone.name);
      for (const call of [
        () => client.generate(request),
        () => client.stream(request, () => undefined),
        () => client.countTokens(request),
      ]) {
        const outcome = call();
        await expect(outcome).rejects.toBeInstanceOf(UpstreamFileUnavailable);
        await expect(outcome).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_ERROR, uris: [gone.uri] });
      }
      // The first generate, then one call each: none retried.
      expect(emulator.requests.filter((r) => r.action !== 'files.upload' && r.action !== 'files.upload.chunk')).toHaveLength(4);

      emulator.advanceClock(FILE_LIFETIME_MS);
      await expect(client.generate(request)).rejects.toMatchObject({ uris: [kept.uri] });
    });

    it('still says a 403 about the key is about the key, files or not', async () => {
      const client = clientWith();
      const uploaded = await client.uploadFile({ data: image, mimeType: 'image/png', displayName: 'a.png' });
      emulator.enqueue({ status: 403, errorMessage: "Method doesn't allow unregistered callers." });
      const request = requestOf({
        contents: [{ role: 'user', text: 'x', media: [{ kind: 'uri', mimeType: 'image/png', uri: uploaded.uri }] }],
      });

      await expect(client.generate(request)).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_ERROR,
        message: expect.stringContaining('GEMINI_API_KEY'),
      });
    });

    it('deletes a file at Gemini, and takes a file already gone as deleted', async () => {
      const client = clientWith();
      const uploaded = await client.uploadFile({ data: image, mimeType: 'image/png', displayName: 'a.png' });

      await expect(client.deleteFile(uploaded.name)).resolves.toBeUndefined();
      await expect(client.deleteFile(uploaded.name)).resolves.toBeUndefined();
      expect(emulator.deletes).toEqual([uploaded.name]);
      expect(emulator.storedFiles()).toEqual([]);
      expect((await counted('gemini_chat_upstream_duration_seconds_count')).filter((s) => s.labels.method === 'files.delete')).toEqual([
        { labels: { method: 'files.delete', outcome: 'ok' }, value: 2 },
      ]);
    });

    it('bounds a prompt with media by its text: notes count, bytes and URIs do not', () => {
      const request = requestOf({
        systemInstruction: 'abc',
        contents: [
          {
            role: 'user',
            text: 'hello',
            media: [
              { kind: 'inline', mimeType: 'image/png', data: image },
              { kind: 'uri', mimeType: 'image/png', uri: 'https://x/v1beta/files/a' },
              { kind: 'note', text: 'gone' },
            ],
          },
        ],
      });
      expect(promptCharsOf(request)).toBe(3 + 5 + 4);
    });
  });
});

describe(retryDelayMs.name, () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it.each<[string, unknown]>([
    ['a 500 (may be billed)', apiError(500)],
    ['a 400', apiError(400)],
    ['a 403', apiError(403)],
    ['a 404', apiError(404)],
    ['a 408', apiError(408)],
    ['a 504', apiError(504)],
    ['a 500 even with RetryInfo', apiError(500, retryInfo('1s'))],
    ['a network failure', new TypeError('fetch failed')],
    ['an abort', new DOMException('aborted', 'AbortError')],
    ['a malformed reply', new SyntaxError('Unexpected end of JSON input')],
    ['a non-error', '429'],
  ])('does not retry %s', (_name, error) => {
    expect(retryDelayMs(error, 0)).toBeNull();
  });

  it.each<[string, ApiError, number]>([
    ['a 429 with RetryInfo 13s', apiError(429, retryInfo('13s')), 13_000],
    ['a 503 with RetryInfo 2s', apiError(503, retryInfo('2s')), 2_000],
    ['a 429 with RetryInfo 0.4s', apiError(429, retryInfo('0.4s')), 400],
    ['a 429 with RetryInfo 1.0005s (rounded up)', apiError(429, retryInfo('1.0005s')), 1_001],
    ['a stream 429 (double-encoded body) with RetryInfo 3s', apiError(429, retryInfo('3s'), true), 3_000],
  ])('waits as Gemini says for %s, whatever the attempt', (_name, error, expected) => {
    expect(retryDelayMs(error, 0)).toBe(expected);
    expect(retryDelayMs(error, 4)).toBe(expected);
  });

  it.each<[number, number]>([
    [0, 250],
    [1, 500],
    [2, 1000],
    [3, 2000],
  ])('backs off exponentially without RetryInfo: attempt %i waits %i ms at median jitter', (attemptNo, expected) => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);

    expect(retryDelayMs(apiError(429), attemptNo)).toBe(expected);
    expect(retryDelayMs(apiError(503), attemptNo)).toBe(expected);
  });

  it.each<[number, number, number]>([
    [0, 125, 375],
    [1, 250, 750],
    [2, 500, 1500],
  ])('keeps jitter within half to one and a half of the backoff: attempt %i in [%i, %i]', (attemptNo, min, max) => {
    const random = jest.spyOn(Math, 'random');

    random.mockReturnValue(0);
    expect(retryDelayMs(apiError(429), attemptNo)).toBe(min);
    random.mockReturnValue(0.999999);
    expect(retryDelayMs(apiError(429), attemptNo)).toBe(max);
  });
});
