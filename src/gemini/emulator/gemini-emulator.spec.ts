import { createHash } from 'node:crypto';
import vm from 'node:vm';
import { ApiError, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { pdf, png, wav } from '../../../test/support/file-samples.js';
import { FILE_LIFETIME_MS, GeminiEmulator } from './gemini-emulator.js';

// The emulator is only worth something if the real SDK accepts what it says, so every
// behaviour is checked through @google/genai; raw fetch covers what the SDK hides.

const THINKING_MODEL = 'gemini-2.5-flash';
const PLAIN_MODEL = 'gemini-2.0-flash';
const SYSTEM = 'You are terse.'; // 14 chars -> 4 tokens
const QUESTION = 'Hello there, emulator!'; // 22 chars -> 6 tokens

/**
 * In Node the SDK sends every request through the Undici global dispatcher, which it looks up
 * on `globalThis` (Symbol.for('undici.globalDispatcher.1')). Jest runs a spec in its own vm
 * context whose `globalThis` lacks it, so every SDK call fails with "Undici globalDispatcher is
 * not available". `vm.runInThisContext` evaluates in Node's main context and reaches the real one.
 */
function shareUndiciDispatcherWithJest(): void {
  const symbol = Symbol.for('undici.globalDispatcher.1');
  new Headers(); // makes Node initialise its lazy Undici, dispatcher included
  const mainGlobal = vm.runInThisContext('globalThis') as Record<symbol, unknown>;
  const jestGlobal = globalThis as unknown as Record<symbol, unknown>;
  jestGlobal[symbol] ??= mainGlobal[symbol];
}

/** Errors raised by Node's fetch come from the main realm, so `instanceof Error` fails under jest. */
const isError = (value: unknown): boolean => Object.prototype.toString.call(value) === '[object Error]';

describe('GeminiEmulator', () => {
  const emulator = new GeminiEmulator({ recordRequests: true });
  let ai: GoogleGenAI;
  let baseUrl: string;

  beforeAll(async () => {
    // The SDK silently switches to Vertex paths when this is set.
    delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
    shareUndiciDispatcherWithJest();
    baseUrl = await emulator.start(0, '127.0.0.1');
    ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });
  });

  afterAll(async () => {
    await emulator.stop();
  });

  beforeEach(() => emulator.reset());

  const ask = (model = THINKING_MODEL, config: Record<string, unknown> = {}) =>
    ai.models.generateContent({ model, contents: QUESTION, config: { systemInstruction: SYSTEM, ...config } });

  const collect = async (model = THINKING_MODEL, config: Record<string, unknown> = {}) => {
    const stream = await ai.models.generateContentStream({
      model,
      contents: QUESTION,
      config: { systemInstruction: SYSTEM, ...config },
    });
    const chunks: GenerateContentResponse[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    return chunks;
  };

  const rawPost = (path: string, body: string, headers: Record<string, string> = { 'x-goog-api-key': 'k' }) =>
    fetch(`${baseUrl}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  const userBody = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });

  it('starts on an ephemeral port and reports its base URL without a trailing slash', () => {
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.baseUrl).toBe(baseUrl);
  });

  it('answers generateContent with an echo, realistic usage and thinking tokens for 2.5 models', async () => {
    const response = await ask();

    expect(response.text).toContain(`Echo: ${QUESTION}`);
    const candidate = response.candidates?.[0];
    expect(candidate?.content?.role).toBe('model');
    expect(candidate?.finishReason).toBe('STOP');
    expect(candidate?.index).toBe(0);
    expect(response.modelVersion).toBe(THINKING_MODEL);
    expect(response.responseId).toEqual(expect.any(String));

    const usage = response.usageMetadata!;
    expect(usage.promptTokenCount).toBe(4 + 6); // system instruction + question
    expect(usage.candidatesTokenCount).toBe(Math.ceil(response.text!.length / 4));
    expect(usage.thoughtsTokenCount).toBe(2 * usage.candidatesTokenCount! + 10);
    expect(usage.totalTokenCount).toBe(usage.promptTokenCount! + usage.candidatesTokenCount! + usage.thoughtsTokenCount!);
    expect(usage.promptTokensDetails).toEqual([{ modality: 'TEXT', tokenCount: 10 }]);
  });

  it('reports no thinking tokens for a model that does not think, nor when the budget is 0', async () => {
    const plain = await ask(PLAIN_MODEL);
    expect(plain.usageMetadata?.thoughtsTokenCount).toBeUndefined();
    expect(plain.usageMetadata?.totalTokenCount).toBe(plain.usageMetadata!.promptTokenCount! + plain.usageMetadata!.candidatesTokenCount!);

    const noBudget = await ask(THINKING_MODEL, { thinkingConfig: { thinkingBudget: 0 } });
    expect(noBudget.usageMetadata?.thoughtsTokenCount).toBeUndefined();
  });

  it('echoes the last user turn of a multi-turn conversation', async () => {
    const response = await ai.models.generateContent({
      model: THINKING_MODEL,
      contents: [
        { role: 'user', parts: [{ text: 'My name is Ada.' }] },
        { role: 'model', parts: [{ text: 'Nice to meet you, Ada.' }] },
        { role: 'user', parts: [{ text: 'What is my name?' }] },
      ],
    });
    expect(response.text).toContain('What is my name?');
    expect(response.text).toContain('turn 2');
    expect(response.usageMetadata?.promptTokenCount).toBe(4 + 6 + 4);
  });

  it('records every request with its parsed body, headers and model', async () => {
    await ask();
    await ai.models.countTokens({ model: THINKING_MODEL, contents: 'count me' });

    expect(emulator.requests).toHaveLength(2);
    const [generate, count] = emulator.requests;
    expect(generate).toMatchObject({
      method: 'POST',
      path: `/v1beta/models/${THINKING_MODEL}:generateContent`,
      model: THINKING_MODEL,
      action: 'generateContent',
    });
    expect(generate.headers['x-goog-api-key']).toBe('test-key');
    expect(generate.body.contents).toEqual([{ role: 'user', parts: [{ text: QUESTION }] }]);
    expect(generate.body.systemInstruction).toEqual({ parts: [{ text: SYSTEM }], role: 'user' });
    expect(generate.receivedAt).toEqual(expect.any(Number));
    expect(count.action).toBe('countTokens');
    expect(emulator.generateRequests()).toEqual([generate]);
  });

  it('applies scripted text, thoughts, model version and usage overrides', async () => {
    emulator.enqueue({
      text: 'Scripted answer.',
      thoughts: 'Let me think.',
      modelVersion: 'gemini-2.5-flash-001',
      usage: { promptTokenCount: 1000, cachedContentTokenCount: 600 },
    });
    const response = await ask();

    expect(response.text).toBe('Scripted answer.');
    expect(response.candidates?.[0].content?.parts?.[0]).toEqual({ text: 'Let me think.', thought: true });
    expect(response.modelVersion).toBe('gemini-2.5-flash-001');
    expect(response.usageMetadata).toMatchObject({
      promptTokenCount: 1000,
      cachedContentTokenCount: 600,
      candidatesTokenCount: 4,
      thoughtsTokenCount: 4,
      totalTokenCount: 1008,
    });
  });

  it('consumes scripted replies in order, then falls back to the default reply', async () => {
    emulator.setDefaultReply({ text: 'default' });
    emulator.enqueue({ text: 'first' }, { text: 'second' });
    const texts = [];
    for (let i = 0; i < 3; i++) texts.push((await ask()).text);
    expect(texts).toEqual(['first', 'second', 'default']);

    emulator.reset();
    expect(emulator.requests).toHaveLength(0);
    expect((await ask()).text).toContain('Echo:');
  });

  it('truncates at maxOutputTokens with finishReason MAX_TOKENS', async () => {
    emulator.enqueue({ text: 'word '.repeat(100).trim() });
    const response = await ask(PLAIN_MODEL, { maxOutputTokens: 10 });
    expect(response.candidates?.[0].finishReason).toBe('MAX_TOKENS');
    expect(response.usageMetadata!.candidatesTokenCount).toBeLessThanOrEqual(10);
    expect(response.text!.length).toBeLessThanOrEqual(40);
  });

  it.each([true, false])('streams the reply in chunks (usageOnEveryChunk: %s)', async (usageOnEveryChunk) => {
    const unary = await ask();
    emulator.enqueue({ usageOnEveryChunk });
    const chunks = await collect();

    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks.map((c) => c.text ?? '').join('')).toBe(unary.text);
    expect(chunks.slice(0, -1).every((c) => c.candidates?.[0].finishReason === undefined)).toBe(true);
    const last = chunks[chunks.length - 1];
    expect(last.candidates?.[0].finishReason).toBe('STOP');
    expect(last.usageMetadata).toEqual(unary.usageMetadata);
    expect(new Set(chunks.map((c) => c.responseId)).size).toBe(1);

    const intermediate = chunks.slice(0, -1).map((c) => c.usageMetadata);
    if (usageOnEveryChunk) {
      // Running totals: candidates grow, the prompt never changes, total stays the sum.
      const counts = [...intermediate, last.usageMetadata].map((u) => u!.candidatesTokenCount!);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      for (const u of intermediate) {
        expect(u!.promptTokenCount).toBe(10);
        expect(u!.totalTokenCount).toBe(u!.promptTokenCount! + u!.candidatesTokenCount! + u!.thoughtsTokenCount!);
      }
    } else {
      expect(intermediate.every((u) => u === undefined)).toBe(true);
    }
  });

  it('speaks plain SSE: data lines of compact JSON, blank-line separated, no event lines', async () => {
    emulator.enqueue({ thoughts: 'Hmm.' });
    const res = await rawPost(`/v1beta/models/${THINKING_MODEL}:streamGenerateContent?alt=sse`, userBody);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text();
    expect(text.endsWith('\n\n')).toBe(true);
    const events = text.trim().split('\n\n');
    for (const event of events) expect(event).toMatch(/^data: \{.*\}$/);
    const first = JSON.parse(events[0].slice('data: '.length));
    expect(first.candidates[0].content).toEqual({ parts: [{ text: 'Hmm.', thought: true }], role: 'model' });
  });

  it('makes the SDK throw an ApiError for a scripted HTTP error, with Retry-After on the wire', async () => {
    emulator.enqueue({ status: 429, retryAfterSeconds: 7 });
    const error = await ask().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect(JSON.parse((error as ApiError).message).error.status).toBe('RESOURCE_EXHAUSTED');

    emulator.enqueue({ status: 503, errorMessage: 'overloaded', retryAfterSeconds: 2 });
    const res = await rawPost(`/v1beta/models/${THINKING_MODEL}:generateContent`, userBody);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toEqual({
      error: {
        code: 503,
        message: 'overloaded',
        status: 'UNAVAILABLE',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' }],
      },
    });

    emulator.enqueue({ status: 500 });
    await expect(collect()).rejects.toMatchObject({ status: 500 });
  });

  it('answers a blocked prompt with promptFeedback and no candidates', async () => {
    emulator.enqueue({ blocked: 'SAFETY' }, { blocked: 'PROHIBITED_CONTENT' });
    const response = await ask();
    expect(response.text).toBeUndefined();
    expect(response.candidates).toBeUndefined();
    expect(response.promptFeedback?.blockReason).toBe('SAFETY');
    expect(response.usageMetadata?.promptTokenCount).toBe(10);

    const chunks = await collect();
    expect(chunks).toHaveLength(1);
    expect(chunks[0].promptFeedback?.blockReason).toBe('PROHIBITED_CONTENT');
  });

  it('answers an empty candidate (only thinking) with MAX_TOKENS and usage', async () => {
    emulator.enqueue({ empty: true });
    const response = await ask(THINKING_MODEL, { maxOutputTokens: 50 });
    expect(response.text).toBeUndefined();
    expect(response.candidates?.[0].finishReason).toBe('MAX_TOKENS');
    expect(response.candidates?.[0].content?.role).toBe('model');
    expect(response.usageMetadata).toMatchObject({ promptTokenCount: 10, thoughtsTokenCount: 50, totalTokenCount: 60 });
    expect(response.usageMetadata?.candidatesTokenCount).toBeUndefined();
  });

  it('makes the SDK fail on a malformed body, unary and streamed', async () => {
    emulator.enqueue({ malformed: true }, { malformed: true });
    await expect(ask()).rejects.toThrow();
    await expect(collect()).rejects.toThrow();
  });

  it('breaks the connection after N chunks: the stream consumer sees the chunks, then an error', async () => {
    emulator.enqueue({ breakAfterChunks: 2 });
    const stream = await ai.models.generateContentStream({ model: THINKING_MODEL, contents: QUESTION });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk.text ?? '');
    })().catch((e: unknown) => e);
    expect(isError(error)).toBe(true);
    expect(seen).toHaveLength(2);

    emulator.enqueue({ breakAfterChunks: 0 });
    await expect(ask()).rejects.toThrow();
  });

  it('sends a mid-stream error event after N chunks', async () => {
    emulator.enqueue({ streamErrorAfterChunks: 1, status: 503 });
    const stream = await ai.models.generateContentStream({ model: THINKING_MODEL, contents: QUESTION });
    let seen = 0;
    const error = await (async () => {
      for await (const _chunk of stream) seen++;
    })().catch((e: unknown) => e);
    expect(seen).toBe(1);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(503);
  });

  it('survives a client that aborts during a delay and keeps serving', async () => {
    emulator.enqueue({ delayMs: 2_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = Date.now();
    const error = await ask(THINKING_MODEL, { abortSignal: controller.signal }).catch((e: unknown) => e);
    // Under jest the main-realm DOMException fails the SDK's `instanceof Error` check, so
    // the SDK wraps it ("exception AbortError: … sending request"); in production it is bare.
    const abort = (error as Error).name === 'AbortError' ? error : (error as Error).cause;
    expect((abort as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(1_000);

    expect((await ask()).text).toContain('Echo:');
    expect(emulator.generateRequests()).toHaveLength(2);
  });

  it('answers 404 NOT_FOUND for retired models', async () => {
    const error = await ask('gemini-1.5-flash').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(404);
    const body = JSON.parse((error as ApiError).message);
    expect(body.error.status).toBe('NOT_FOUND');
    expect(body.error.message).toContain('models/gemini-1.5-flash is not found for API version v1beta');
    await expect(ask('gemini-retired-test')).rejects.toMatchObject({ status: 404 });
  });

  it('counts tokens', async () => {
    const response = await ai.models.countTokens({ model: THINKING_MODEL, contents: QUESTION });
    expect(response.totalTokens).toBe(6);
  });

  it('counts with countTokens what generateContent then reports as its prompt, system instruction included', async () => {
    const contents = [
      { role: 'user', parts: [{ text: 'x'.repeat(401) }] },
      { role: 'model', parts: [{ text: 'an answer' }] },
      { role: 'user', parts: [{ text: 'and then?' }] },
    ];
    const counted = await rawPost(
      `/v1beta/models/${THINKING_MODEL}:countTokens`,
      JSON.stringify({
        generateContentRequest: { model: `models/${THINKING_MODEL}`, contents, systemInstruction: { parts: [{ text: SYSTEM }] } },
      }),
    );
    const answered = await ai.models.generateContent({ model: THINKING_MODEL, contents, config: { systemInstruction: SYSTEM } });
    expect((await counted.json()).totalTokens).toBe(answered.usageMetadata?.promptTokenCount);
    // The instruction counted as a leading content (what the service does: the SDK will not send it to countTokens) weighs the same.
    const asContent = await ai.models.countTokens({
      model: THINKING_MODEL,
      contents: [{ role: 'user', parts: [{ text: SYSTEM }] }, ...contents],
    });
    expect(asContent.totalTokens).toBe(answered.usageMetadata?.promptTokenCount);
  });

  describe("each model's input limit", () => {
    const limited = new GeminiEmulator({ recordRequests: true, inputTokenLimits: { 'gemini-tiny': 10 } });
    let tiny: GoogleGenAI;
    beforeAll(async () => {
      tiny = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: await limited.start(0, '127.0.0.1') } });
    });
    afterAll(() => limited.stop());

    it("is the bundled table's unless given", () => {
      expect(limited.inputTokenLimit('gemini-2.0-flash')).toBe(1_048_576);
      expect(limited.inputTokenLimit('gemini-2.0-flash-001')).toBe(1_048_576);
      expect(limited.inputTokenLimit('gemini-tiny')).toBe(10);
      expect(limited.inputTokenLimit('gemini-unknown')).toBeNull();
    });

    it("refuses a prompt over it with Gemini's 400 and its wording, generate and stream alike; countTokens still counts", async () => {
      const contents = 'y'.repeat(44); // 11 tokens
      const calls: (() => Promise<unknown>)[] = [
        () => tiny.models.generateContent({ model: 'gemini-tiny', contents }),
        async () => {
          for await (const _ of await tiny.models.generateContentStream({ model: 'gemini-tiny', contents })) void _;
        },
      ];
      for (const call of calls) {
        const error = (await call().catch((e: unknown) => e)) as ApiError;
        expect(error).toBeInstanceOf(ApiError);
        expect(error.status).toBe(400);
        expect(JSON.parse(error.message).error).toMatchObject({
          status: 'INVALID_ARGUMENT',
          message: 'The input token count (11) exceeds the maximum number of tokens allowed (10).',
        });
      }
      await expect(tiny.models.countTokens({ model: 'gemini-tiny', contents })).resolves.toMatchObject({ totalTokens: 11 });
      await expect(tiny.models.generateContent({ model: 'gemini-tiny', contents: 'y'.repeat(40) })).resolves.toMatchObject({
        usageMetadata: { promptTokenCount: 10 },
      });
    });
  });

  it('rejects requests without a key, with a bad body, without contents, or to unknown routes', async () => {
    const generate = `/v1beta/models/${THINKING_MODEL}:generateContent`;
    const noKey = await rawPost(generate, userBody, {});
    expect(noKey.status).toBe(403);
    expect((await noKey.json()).error.status).toBe('PERMISSION_DENIED');

    expect((await rawPost(`${generate}?key=abc`, userBody, {})).status).toBe(200);

    const badJson = await rawPost(generate, '{not json');
    expect(badJson.status).toBe(400);
    expect((await badJson.json()).error.status).toBe('INVALID_ARGUMENT');

    expect((await rawPost(generate, JSON.stringify({ contents: [] }))).status).toBe(400);
    expect((await rawPost(generate, JSON.stringify({}))).status).toBe(400);
    expect((await rawPost(`/v1/models/${THINKING_MODEL}:generateContent`, userBody)).status).toBe(200);

    const unknown = await rawPost('/v1beta/nothing-here', userBody);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.status).toBe('NOT_FOUND');

    expect(emulator.requests.map((r) => r.body)).toContain('{not json');
  });

  describe('what it keeps', () => {
    const generatePath = `/v1beta/models/${THINKING_MODEL}:generateContent`;
    let small: GeminiEmulator;
    let smallUrl: string;

    beforeAll(async () => {
      // Not recording, and a 1 KiB body limit: the embedded (offline) emulator's defaults, scaled down.
      small = new GeminiEmulator({ maxBodyBytes: 1024 });
      smallUrl = await small.start();
    });

    afterAll(async () => {
      await small.stop();
    });

    const post = (init: RequestInit) => fetch(`${smallUrl}${generatePath}`, { method: 'POST', ...init });

    it('keeps no request unless asked to record them', async () => {
      const answered = await post({ headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' }, body: userBody });
      expect(answered.status).toBe(200);
      expect(small.requests).toEqual([]);
      expect(small.generateRequests()).toEqual([]);
    });

    it('refuses a declared body over the limit as Google does, before reading it', async () => {
      const refused = await post({ headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' }, body: 'x'.repeat(4096) });
      expect(refused.status).toBe(400);
      await expect(refused.json()).resolves.toEqual({
        error: { code: 400, status: 'INVALID_ARGUMENT', message: 'Request payload size exceeds the limit: 1024 bytes.' },
      });
    });

    it('stops reading a body without a length once it passes the limit', async () => {
      const chunks = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode('y'.repeat(512)));
          controller.close();
        },
      });
      const refused = await post({
        headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' },
        body: chunks,
        duplex: 'half',
      } as RequestInit).catch((error: unknown) => error);
      // The emulator answers 400 and closes; a client still sending may see the reset instead.
      if (refused instanceof Response) expect(refused.status).toBe(400);
      else expect(isError(refused)).toBe(true);
      // And it still answers the next request normally.
      const next = await post({ headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' }, body: userBody });
      expect(next.status).toBe(200);
    });

    it('records what tests ask it to, refused bodies excepted', async () => {
      const recorder = new GeminiEmulator({ recordRequests: true, maxBodyBytes: 1024 });
      const url = await recorder.start();
      try {
        const headers = { 'x-goog-api-key': 'k', 'content-type': 'application/json' };
        await fetch(`${url}${generatePath}`, { method: 'POST', headers, body: userBody });
        await fetch(`${url}${generatePath}`, { method: 'POST', headers, body: 'z'.repeat(2048) });
        expect(recorder.requests).toHaveLength(1);
        expect(recorder.requests[0].body).toEqual(JSON.parse(userBody));
      } finally {
        await recorder.stop();
      }
    });
  });

  it('stops promptly even with a request still waiting on its delay', async () => {
    const other = new GeminiEmulator({ recordRequests: true, defaultReply: { delayMs: 10_000 } });
    const url = await other.start();
    const pending = fetch(`${url}/v1beta/models/${THINKING_MODEL}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': 'k' },
      body: userBody,
    }).catch((e: unknown) => e);
    while (other.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await other.stop();
    expect(Date.now() - started).toBeLessThan(500);
    expect(isError(await pending)).toBe(true);
    expect(() => other.baseUrl).toThrow();
  });

  describe('media and the Files API', () => {
    const GEMINI_3_MODEL = 'gemini-3-pro-preview';
    const image = png(7, 1000, 500); // 2×1 tiles of 768 on 2.x
    const threePages = pdf(3);
    const twoAndAHalfSeconds = wav(2500);
    const inline = (mimeType: string, data: Buffer) => ({ inlineData: { mimeType, data: data.toString('base64') } });
    const upload = (data: Buffer, mimeType: string, displayName = 'sample') =>
      ai.files.upload({ file: new Blob([new Uint8Array(data)], { type: mimeType }), config: { mimeType, displayName } });
    const askWith = (parts: object[], model = PLAIN_MODEL) => ai.models.generateContent({ model, contents: [{ role: 'user', parts }] });

    it('takes inline data and file URIs, and records them as sent, bytes and all', async () => {
      const file = await upload(threePages, 'application/pdf', 'report.pdf');
      await askWith([inline('image/png', image), { fileData: { mimeType: 'application/pdf', fileUri: file.uri } }, { text: 'Compare.' }]);

      const [sent] = emulator.generateRequests();
      const parts = sent.body.contents[0].parts;
      expect(Buffer.from(parts[0].inlineData.data, 'base64').equals(image)).toBe(true);
      expect(parts[0].inlineData.mimeType).toBe('image/png');
      expect(parts[1]).toEqual({ fileData: { mimeType: 'application/pdf', fileUri: file.uri } });
      expect(parts[2]).toEqual({ text: 'Compare.' });
      expect(emulator.uploads).toEqual([
        { name: file.name, displayName: 'report.pdf', mimeType: 'application/pdf', data: threePages, receivedAt: expect.any(Number) },
      ]);
    });

    it('answers an upload as Gemini does: a files/ name, a URI under the base URL, ACTIVE, 48 hours to live', async () => {
      const before = Date.now();
      const file = await upload(image, 'image/png', 'chart.png');

      expect(file).toMatchObject({
        name: expect.stringMatching(/^files\/[a-z0-9]+$/),
        displayName: 'chart.png',
        mimeType: 'image/png',
        sizeBytes: String(image.length),
        state: 'ACTIVE',
        sha256Hash: Buffer.from(createHash('sha256').update(image).digest('hex')).toString('base64'),
      });
      expect(file.uri).toBe(`${baseUrl}/v1beta/${file.name}`);
      const lifetime = Date.parse(file.expirationTime!) - Date.parse(file.createTime!);
      expect(lifetime).toBe(FILE_LIFETIME_MS);
      expect(Date.parse(file.createTime!)).toBeGreaterThanOrEqual(before - 1000);
      await expect(ai.files.get({ name: file.name! })).resolves.toMatchObject({ name: file.name, state: 'ACTIVE' });
      const listed = await ai.files.list();
      expect(listed.page.map((f) => f.name)).toEqual([file.name]);
    });

    it('takes an upload larger than one of the SDK’s 8 MiB chunks', async () => {
      const big = Buffer.alloc(9 * 1024 * 1024, 1);
      big.set(wav(10));
      const file = await upload(big, 'audio/wav');
      expect(file.sizeBytes).toBe(String(big.length));
      expect(emulator.uploads[0].data.equals(big)).toBe(true);
    });

    it('answers 403 PERMISSION_DENIED for a file expired, deleted or never uploaded, in generate and countTokens alike', async () => {
      const kept = await upload(image, 'image/png');
      const expired = await upload(image, 'image/png');
      const deleted = await upload(image, 'image/png');
      await ai.files.delete({ name: deleted.name! });
      emulator.expireFile(expired.name!);
      const uriPart = (uri: string) => ({ fileData: { mimeType: 'image/png', fileUri: uri } });

      await expect(askWith([uriPart(kept.uri!), { text: 'hi' }])).resolves.toBeDefined();
      for (const gone of [expired.uri!, deleted.uri!, `${baseUrl}/v1beta/files/neverwas`]) {
        const id = gone.split('/').pop();
        const message = `You do not have permission to access the File ${id} or it may not exist.`;
        await expect(askWith([uriPart(gone), { text: 'hi' }])).rejects.toMatchObject({
          status: 403,
          message: expect.stringContaining(message),
        });
        await expect(
          ai.models.countTokens({ model: PLAIN_MODEL, contents: [{ role: 'user', parts: [uriPart(gone), { text: 'hi' }] }] }),
        ).rejects.toMatchObject({ status: 403, message: expect.stringContaining('PERMISSION_DENIED') });
      }
      expect(emulator.deletes).toEqual([deleted.name]);
      await expect(ai.files.get({ name: deleted.name! })).rejects.toMatchObject({ status: 403 });
      await expect(ai.files.delete({ name: deleted.name! })).rejects.toMatchObject({ status: 403 });
    });

    it('expires files 48 hours after upload by its clock', async () => {
      const file = await upload(image, 'image/png');
      emulator.advanceClock(FILE_LIFETIME_MS - 1000);
      await expect(ai.files.get({ name: file.name! })).resolves.toMatchObject({ state: 'ACTIVE' });
      emulator.advanceClock(1000);
      await expect(ai.files.get({ name: file.name! })).rejects.toMatchObject({ status: 403 });
      expect(emulator.storedFiles()).toEqual([]);
    });

    it('reports scripted states: PROCESSING until a get says ACTIVE, and refuses a file not ACTIVE', async () => {
      emulator.scriptNextFileStates('PROCESSING', 'PROCESSING', 'ACTIVE');
      const file = await upload(image, 'image/png');
      expect(file.state).toBe('PROCESSING');
      await expect(askWith([{ fileData: { mimeType: 'image/png', fileUri: file.uri } }])).rejects.toMatchObject({ status: 400 });
      await expect(ai.files.get({ name: file.name! })).resolves.toMatchObject({ state: 'PROCESSING' });
      await expect(ai.files.get({ name: file.name! })).resolves.toMatchObject({ state: 'ACTIVE' });
      await expect(askWith([{ fileData: { mimeType: 'image/png', fileUri: file.uri } }])).resolves.toBeDefined();
    });

    it.each([
      ['an image on a 2.x model: 258 per 768-px tile', PLAIN_MODEL, inline('image/png', image), { modality: 'IMAGE', tokenCount: 516 }],
      ['an image on a 3.x model: 1,120 (HIGH)', GEMINI_3_MODEL, inline('image/png', image), { modality: 'IMAGE', tokenCount: 1120 }],
      ['a 3-page PDF on 2.x: 258 a page', PLAIN_MODEL, inline('application/pdf', threePages), { modality: 'DOCUMENT', tokenCount: 774 }],
      [
        'a 3-page PDF on 3.x: 560 a page',
        GEMINI_3_MODEL,
        inline('application/pdf', threePages),
        { modality: 'DOCUMENT', tokenCount: 1680 },
      ],
      ['a WAV of 2.5 s: 32 a second', PLAIN_MODEL, inline('audio/wav', twoAndAHalfSeconds), { modality: 'AUDIO', tokenCount: 80 }],
    ])('reports %s in promptTokensDetails, beside the text, and counts the same', async (_name, model, part, detail) => {
      const contents = [{ role: 'user', parts: [part, { text: 'Describe this file.' }] }]; // 19 chars: 5 tokens
      const response = await ai.models.generateContent({ model, contents });
      const counted = await ai.models.countTokens({ model, contents });

      const usage = response.usageMetadata!;
      expect(usage.promptTokensDetails).toEqual([{ modality: 'TEXT', tokenCount: 5 }, detail]);
      expect(usage.promptTokenCount).toBe(5 + detail.tokenCount);
      expect(counted.totalTokens).toBe(5 + detail.tokenCount);
    });

    it('counts an uploaded file by its bytes, as inline data', async () => {
      const file = await upload(threePages, 'application/pdf');
      const response = await askWith([{ fileData: { mimeType: 'application/pdf', fileUri: file.uri } }]);
      expect(response.usageMetadata?.promptTokensDetails).toEqual([{ modality: 'DOCUMENT', tokenCount: 774 }]);
    });

    it('says what the last user turn carried before its usual answer', async () => {
      const response = await askWith([inline('image/png', image), inline('application/pdf', threePages), { text: 'What are these?' }]);
      expect(response.text).toMatch(/^I received 1 image and 1 PDF of 3 pages\.\n\nEcho: What are these\?/);

      const audioOnly = await askWith([inline('audio/wav', twoAndAHalfSeconds)]);
      expect(audioOnly.text).toMatch(/^I received 1 audio file of 2\.5 s\.\n\nEcho: \(no text\)/);
    });

    it.each([
      ['a type Gemini does not take', { inlineData: { mimeType: 'image/gif', data: 'R0lGODlh' } }, 'Unsupported MIME type: image/gif'],
      ['bytes that are not base64', { inlineData: { mimeType: 'image/png', data: 'not base64!' } }, 'Base64 decoding failed'],
      ['a URI that names no file', { fileData: { mimeType: 'image/png', fileUri: 'https://example.com/cat.png' } }, 'not a File URI'],
    ])('refuses %s with 400', async (_name, part, message) => {
      const response = await rawPost(
        `/v1beta/models/${PLAIN_MODEL}:generateContent`,
        JSON.stringify({ contents: [{ role: 'user', parts: [part] }] }),
      );
      expect(response.status).toBe(400);
      expect(await response.text()).toContain(message);
    });

    it('refuses a request whose inline data passes the request limit, as Gemini does', async () => {
      const small = new GeminiEmulator({ maxBodyBytes: 64 * 1024 });
      const url = await small.start();
      try {
        const smallAi = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: url } });
        const request = smallAi.models.generateContent({
          model: PLAIN_MODEL,
          contents: [{ role: 'user', parts: [inline('image/png', Buffer.alloc(100 * 1024)), { text: 'hi' }] }],
        });
        await expect(request).rejects.toMatchObject({
          status: 400,
          message: expect.stringContaining('Request payload size exceeds the limit'),
        });
      } finally {
        await small.stop();
      }
    });

    it('wants a key on the Files API too', async () => {
      const response = await fetch(`${baseUrl}/v1beta/files`);
      expect(response.status).toBe(403);
    });
  });
});
