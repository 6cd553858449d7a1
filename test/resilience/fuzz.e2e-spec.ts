import fc from 'fast-check';
import http from 'node:http';
import request from 'supertest';
import {
  garbageAuthorization,
  PoolRef,
  requestArb,
  ROUTES,
  ROUTE_NAMES,
  upstreamUsageArb,
  weirdString,
} from '../support/fuzz-arbitraries.js';
import type { RequestSpec, RouteName } from '../support/fuzz-arbitraries.js';
import {
  describeExchange,
  expectErrorBody,
  expectErrorShape,
  FuzzFailure,
  rowCounts,
  sameCounts,
  sendRaw,
  serverCause,
} from '../support/fuzz-client.js';
import type { FuzzRequest, FuzzResponse, RowCounts } from '../support/fuzz-client.js';
import { explained } from '../support/explained.js';
import { World } from '../support/fuzz-world.js';
import { parseEvents, SseDataError } from '../support/sse.js';
import type { SseEvent } from '../support/sse.js';
import { startTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

/**
 * Property-based fuzzing of every mutating route through the real app (real AppModule, SQLite
 * file, real @google/genai SDK against the emulator, which always answers successfully here).
 *
 * For every generated request — bodies, headers and path ids — and whatever the server already
 * holds:
 *   - never a 5xx (nor an `event: error` carrying one in a stream);
 *   - every response >= 400 is JSON `{statusCode, error, code, message}` with statusCode = status;
 *   - a 4xx stores nothing: row counts of users, chat_sessions, chat_history, api_keys and
 *     idempotency_records are the same before and after;
 *   - and a few contract oracles: malformed JSON is 400, a body over 1 MiB is 413 (and one under
 *     it is not), a body with an unknown field is never accepted, open mode never issues API keys,
 *     and with ADMIN_API_KEY set a request without a valid key is never served.
 *
 * Three properties, each on its own fixed seed (in the test's name): arbitrary requests in open
 * mode; the same in pairs (each request sent twice: retries, Idempotency-Key replays, duplicate
 * ids); and, against a second app with ADMIN_API_KEY, requests under admin, user, revoked and
 * garbage keys. Together well over 1,000 requests, in about 10 s.
 *
 * A failure is shrunk by fast-check and reported with the seed, the counterexample, the minimal
 * request (method, target, headers, body), the response, and the cause the service logged.
 *   FUZZ_SEED=<n>     another seed (properties use n, n+1, n+2)
 *   FUZZ_SCALE=<x>    x times as many runs
 *   FUZZ_COLLECT=1    do not stop at the first failure: list every distinct one at the end
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_122);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const RUNS = {
  open: Math.round(850 * SCALE),
  retries: Math.round(120 * SCALE),
  admin: Math.round(250 * SCALE),
};
const MIN_REQUESTS = 1_000;
/** FUZZ_COLLECT=1: record every distinct failure and go on, instead of stopping (and shrinking) at the first. */
const COLLECT = process.env.FUZZ_COLLECT === '1';
const ADMIN_KEY = 'fuzz-admin-key-0123456789';
const MAX_MESSAGE_CHARS = 2_000;
const BODY_LIMIT = 1024 * 1024;
const DTO_ROUTES = new Set(ROUTE_NAMES.filter((route) => ROUTES[route].fields !== null));

type AuthState = 'open' | 'admin' | 'user' | 'none';

interface Ctx {
  t: TestApp;
  world: World;
  agent: http.Agent;
  admin: boolean;
}

const stats = {
  requests: 0,
  failedProperties: 0,
  byRoute: new Map<string, Map<number, number>>(),
  slowest: 0,
  collected: new Map<string, string>(),
  record(route: string, status: number, ms: number) {
    this.requests += 1;
    this.slowest = Math.max(this.slowest, ms);
    const counts = this.byRoute.get(route) ?? new Map<number, number>();
    counts.set(status, (counts.get(status) ?? 0) + 1);
    this.byRoute.set(route, counts);
  },
};

/** What was sent and answered, by route and status: shown when the run fails. */
function summary(): string {
  const lines = [...stats.byRoute.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, counts]) => {
      const byStatus = [...counts.entries()].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`);
      return `  ${route.padEnd(50)} ${byStatus.join(' ')}`;
    });
  return `fuzz (seed ${SEED}): ${stats.requests} requests, slowest ${stats.slowest.toFixed(0)} ms\n${lines.join('\n')}`;
}

/** FUZZ_COLLECT=1: every distinct failure found so far, in full. */
function collectedFailures(): string {
  const found = [...stats.collected.entries()].map(([signature, text]) => `### ${signature}\n${text}`);
  return `fuzz: ${found.length} distinct failure(s)\n\n${found.join('\n\n')}`;
}

// ---------------------------------------------------------------------------------------------
// One request, checked

async function exchange(ctx: Ctx, spec: RequestSpec): Promise<FuzzResponse> {
  const request = ctx.world.build(spec);
  const before = await rowCounts(ctx.t.dataSource);
  let response: FuzzResponse;
  try {
    response = await sendRaw(ctx.t.baseUrl, ctx.agent, request);
  } catch (error) {
    throw new FuzzFailure(`no HTTP response: ${(error as Error).message}\n${describeExchange(request)}`);
  }
  stats.record(`${ctx.admin ? 'admin' : 'open '} ${spec.route}`, response.status, response.ms);
  try {
    await check(ctx, spec, request, response, before);
  } catch (error) {
    if (!(error instanceof FuzzFailure)) throw error;
    const cause = serverCause(ctx.t.logs, response.headers['x-request-id']);
    const failure = new FuzzFailure(`${error.message}\n${describeExchange(request, response)}${cause ? `\nserver:   ${cause}` : ''}`);
    if (!COLLECT) throw failure;
    const why = (cause ?? error.message)
      .replace(/\[.*\]$/, '')
      .replace(/"[^"]*"/g, '"…"')
      .replace(/\d+/g, 'N');
    const signature = `${ctx.admin ? 'admin' : 'open'} ${spec.route} ${response.status} ${why}`;
    if (!stats.collected.has(signature)) stats.collected.set(signature, failure.message);
  }
  if (response.status < 300) {
    if (spec.route === 'POST /users/:user_id/api-keys' && response.status === 201) {
      ctx.world.learnIssuedKey((JSON.parse(response.text) as { key: string }).key);
    }
    await ctx.world.sync();
  }
  return response;
}

async function check(ctx: Ctx, spec: RequestSpec, request: FuzzRequest, response: FuzzResponse, before: RowCounts): Promise<void> {
  const { status } = response;
  if (status >= 500) throw new FuzzFailure(`server error ${status}`);
  if (status < 200 || status > 599) throw new FuzzFailure(`unexpected status ${status}`);

  let refusedWith: number | null = null;
  let code: string | null = null;
  if (status >= 400) {
    code = expectErrorBody(response).code;
    refusedWith = status;
  } else if (status === 204) {
    if (response.text !== '') throw new FuzzFailure('204 with a body');
  } else if (String(response.headers['content-type'] ?? '').startsWith('text/event-stream')) {
    refusedWith = checkStream(response);
  } else {
    try {
      JSON.parse(response.text);
    } catch {
      throw new FuzzFailure(`${status} whose body is not JSON`);
    }
  }

  if (refusedWith !== null && refusedWith < 500) {
    const after = await rowCounts(ctx.t.dataSource);
    if (!sameCounts(before, after)) {
      throw new FuzzFailure(`a ${refusedWith} stored rows: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
    }
  }
  checkOracles(ctx, spec, request, response, code);
}

/** A 200 stream must start with `turn` and end with `done`, or with an `error` event (never a 5xx); returns that error's status. */
function checkStream(response: FuzzResponse): number | null {
  let events: SseEvent[];
  try {
    // Every event of the whole body, a last one without its blank line and one without data too.
    events = parseEvents(response.text, { ended: true, lenient: true });
  } catch (error) {
    if (error instanceof SseDataError) throw new FuzzFailure(`stream ${error.message}`);
    throw error;
  }
  const last = events[events.length - 1];
  if (!last || (last.event !== 'done' && last.event !== 'error')) throw new FuzzFailure('stream did not end with a done or error event');
  if (events[0].event !== 'turn') throw new FuzzFailure('stream did not start with a turn event');
  if (events.slice(1, -1).some((event) => event.event !== 'delta')) throw new FuzzFailure('stream has a non-delta event before its end');
  // Every event names its turn and place: what a client sends back as Last-Event-ID.
  const turnId = (events[0].data as { turn_id?: unknown }).turn_id;
  if (events.some((event, i) => event.id !== `${String(turnId)}:${i + 1}`))
    throw new FuzzFailure('stream events do not carry their <turn_id>:<seq> ids');
  if (last.event === 'done') return null;
  const error = expectErrorShape(last.data, null);
  if (error.statusCode >= 500) throw new FuzzFailure(`stream ended with a ${error.statusCode} error event`);
  return error.statusCode;
}

/** Strict JSON as body-parser reads it: an object or array at the top (a leading BOM is dropped). */
function isStrictJson(text: string): boolean {
  const trimmed = text.replace(/^\ufeff/, '');
  if (!/^[ \t\n\r]*[[{]/.test(trimmed)) return false;
  try {
    JSON.parse(trimmed);
    return true;
  } catch {
    return false;
  }
}

function checkOracles(ctx: Ctx, spec: RequestSpec, request: FuzzRequest, response: FuzzResponse, code: string | null): void {
  const { status } = response;
  const body = spec.body;
  const bytes = request.body?.length ?? 0;

  // A path that names a known route, asked with another method (a suffix can make one), is
  // 405 before anything else, with the methods it takes.
  if (status === 405) {
    const allow = String(response.headers.allow ?? '');
    if (allow === '' || allow.split(', ').includes(request.method))
      throw new FuzzFailure(`405 with Allow "${allow}" for ${request.method}`);
    return;
  }
  // Without a valid key (when keys are required) a body is refused 401 before it is read.
  const keyless = ctx.admin && authState(ctx, request) === 'none';
  if (
    body.kind === 'text' &&
    body.contentType !== null &&
    /^application\/json\s*(;|$)/i.test(body.contentType) &&
    !/charset=(?!utf-8)/i.test(body.contentType) &&
    bytes > 0 &&
    bytes <= BODY_LIMIT &&
    !isStrictJson(body.text) &&
    status !== (keyless ? 401 : 400)
  ) {
    throw new FuzzFailure(`malformed JSON answered ${status}, not ${keyless ? 401 : 400}`);
  }
  if (bytes > BODY_LIMIT && status !== 413) throw new FuzzFailure(`a ${bytes}-byte body answered ${status}, not 413`);
  // An error says what is wrong in a few lines, whatever the request held.
  if (status >= 400 && response.text.length > 2_000) throw new FuzzFailure(`a ${status} answer of ${response.text.length} bytes`);
  if (bytes <= BODY_LIMIT && status === 413) throw new FuzzFailure(`a ${bytes}-byte body (under 1 MiB) answered 413`);

  if (status < 300 && DTO_ROUTES.has(spec.route) && body.kind === 'json' && isPlainObject(body.value)) {
    const unknown = Object.keys(body.value).filter((key) => !ROUTES[spec.route].fields!.includes(key));
    if (unknown.length > 0) throw new FuzzFailure(`accepted (${status}) a body with unknown field(s) ${JSON.stringify(unknown)}`);
  }
  if (status < 300 && spec.route === 'POST /users/:user_id/api-keys' && !ctx.admin) {
    throw new FuzzFailure('open mode issued an API key');
  }
  if (keyless) {
    const allowed = (status === 400 && bytes === 0) || status === 401 || status === 413 || (status === 404 && code === 'ROUTE_NOT_FOUND');
    if (!allowed) throw new FuzzFailure(`a request without a valid key answered ${status} ${String(code)}, not 401`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Who the Authorization header makes the caller, by the guard's own rule. */
function authState(ctx: Ctx, request: FuzzRequest): AuthState {
  if (!ctx.admin) return 'open';
  // The server's HTTP parser drops the value's surrounding whitespace.
  const header = (request.headers.authorization ?? '').replace(/^[ \t]+|[ \t]+$/g, '');
  const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (token === undefined) return 'none';
  if (token === ADMIN_KEY) return 'admin';
  return ctx.world.isLiveUserKey(token) ? 'user' : 'none';
}

// ---------------------------------------------------------------------------------------------
// Setup helpers

const seedSpec = (n: number, authorization?: string): RequestSpec => ({
  route: 'POST /sessions',
  ids: [],
  body: { kind: 'json', value: { user_id: `fuzz-seed-${n}`, title: 'seed' }, contentType: 'application/json' },
  headers: { authorization },
});

/** Keeps a few sessions around so that valid turns have somewhere to go. */
async function replenish(ctx: Ctx, authorization?: string): Promise<void> {
  let n = 0;
  while (ctx.world.sessions.length < 3 && n < 3) {
    const response = await exchange(ctx, seedSpec(ctx.world.sessions.length + n, authorization));
    // Creating a session counts against the caller's rate limit: when it is spent, fewer sessions for a while.
    if (response.status === 429) return;
    if (response.status !== 201) throw new Error(`could not seed a session: ${response.status} ${response.text}`);
    n += 1;
  }
}

/** Each property runs on its own seed (SEED + offset), so that they do not replay one another's requests. */
async function runProperty<Ts extends [RequestSpec, ...unknown[]]>(
  property: fc.IAsyncPropertyWithHooks<Ts>,
  numRuns: number,
  seed: number,
): Promise<void> {
  try {
    await fc.assert(property, { seed, numRuns, verbose: 0 });
  } catch (error) {
    stats.failedProperties += 1;
    // The failures collected before this one stopped the property are reported with it.
    if (COLLECT && stats.collected.size > 0 && error instanceof Error) error.message += `\n\n${collectedFailures()}`;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------

describe(`fuzz: every mutating route (fast-check seed ${SEED})`, () => {
  describe('open mode (no ADMIN_API_KEY)', () => {
    let ctx: Ctx;

    beforeAll(async () => {
      const t = await startTestApp({ env: { MAX_MESSAGE_CHARS: String(MAX_MESSAGE_CHARS), RATE_LIMIT_PER_MINUTE: '1000000' } });
      ctx = { t, world: new World(t.dataSource), agent: new http.Agent({ keepAlive: true, maxSockets: 1 }), admin: false };
      await ctx.world.sync();
    });

    afterAll(async () => {
      ctx.agent.destroy();
      await ctx.t.close();
    });

    it(`survives ${RUNS.open} arbitrary requests: never 5xx, contract error bodies, nothing stored on 4xx (seed ${SEED})`, async () => {
      // Gemini's usage numbers too: the app's close recomputes every stored cost from its counts.
      const property = fc.asyncProperty(requestArb(), upstreamUsageArb, async (spec, usage) => {
        ctx.t.emulator.reset();
        if (usage) ctx.t.emulator.setDefaultReply({ usage: usage });
        await replenish(ctx);
        await exchange(ctx, spec);
      });
      await runProperty(property, RUNS.open, SEED);
    }, 180_000);

    it(`survives ${RUNS.retries} requests sent twice (retries, Idempotency-Key replays, duplicates) (seed ${SEED + 1})`, async () => {
      const property = fc.asyncProperty(requestArb(), async (spec) => {
        ctx.t.emulator.reset();
        await replenish(ctx);
        await exchange(ctx, spec);
        await exchange(ctx, spec);
      });
      await runProperty(property, RUNS.retries, SEED + 1);
    }, 120_000);
  });

  describe(`with ADMIN_API_KEY set, under random Authorization`, () => {
    let ctx: Ctx;

    beforeAll(async () => {
      // A low rate limit, so that 429 RATE_LIMITED (which must store nothing too) can come up.
      const t = await startTestApp({
        env: { ADMIN_API_KEY: ADMIN_KEY, MAX_MESSAGE_CHARS: String(MAX_MESSAGE_CHARS), RATE_LIMIT_PER_MINUTE: '3' },
      });
      ctx = { t, world: new World(t.dataSource), agent: new http.Agent({ keepAlive: true, maxSockets: 1 }), admin: true };
      await ctx.world.sync();
    });

    afterAll(async () => {
      ctx.agent.destroy();
      await ctx.t.close();
    });

    it(`survives ${RUNS.admin} requests with admin, user, revoked and garbage keys (seed ${SEED + 2})`, async () => {
      const authorization: fc.Arbitrary<string | PoolRef | undefined> = fc.oneof(
        {
          weight: 4,
          arbitrary: fc.constantFrom(`Bearer ${ADMIN_KEY}`, `bearer ${ADMIN_KEY}`, `Bearer   ${ADMIN_KEY}  `, `BEARER\t${ADMIN_KEY}`),
        },
        { weight: 4, arbitrary: fc.nat(64).map((index) => new PoolRef('apikey', index)) },
        { weight: 2, arbitrary: fc.constant(undefined) },
        { weight: 3, arbitrary: garbageAuthorization },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            ADMIN_KEY,
            `Bearer ${ADMIN_KEY}x`,
            `Bearer ${ADMIN_KEY.toUpperCase()}`,
            `Basic ${ADMIN_KEY}`,
            `Bearer ${ADMIN_KEY} extra`,
            `Bearer ${ADMIN_KEY.slice(0, -1)}`,
            `Bearer "${ADMIN_KEY}"`,
            `Bearer ${ADMIN_KEY}\u0000`,
          ),
        },
      );
      const routes = ROUTE_NAMES.map((route: RouteName) => ({
        route,
        weight: route.includes('api-keys') ? 3 : route.includes('messages') || route === 'POST /chat' ? 2 : 1,
      }));
      const property = fc.asyncProperty(requestArb({ authorization, routes }), async (spec) => {
        ctx.t.emulator.reset();
        await replenish(ctx, `Bearer ${ADMIN_KEY}`);
        await exchange(ctx, spec);
      });
      await runProperty(property, RUNS.admin, SEED + 2);
    }, 120_000);
  });

  it(`sent at least ${MIN_REQUESTS} requests in all`, () => {
    if (stats.failedProperties > 0) return; // a property failed: its report is what matters
    explained(collectedFailures, () => expect(stats.collected.size).toBe(0));
    explained(summary, () => expect(stats.requests).toBeGreaterThanOrEqual(MIN_REQUESTS * Math.min(1, SCALE)));
  });
});

/** Real calendar dates, impossible ones that look right, and strings that only look like dates. */
const dateArb: fc.Arbitrary<{ text: string; real: boolean | null }> = fc.oneof(
  fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((date) => ({
    text: date.toISOString().slice(0, 10),
    real: true,
  })),
  fc
    .tuple(fc.integer({ min: 1970, max: 2100 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 29, max: 31 }))
    .map(([year, month, day]) => {
      const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
      const probe = new Date(`${text}T00:00:00Z`);
      return { text, real: !Number.isNaN(probe.getTime()) && probe.getUTCDate() === day };
    }),
  fc
    .constantFrom('2026-02-30', '2025-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '2026-11-22T24:00:00Z', '2026-11-22T23:60:00Z')
    .map((text) => ({ text, real: false })),
  // Not dates at all, or not in the accepted shapes: a 400 too, whatever they are.
  fc
    .oneof(weirdString(20), fc.constantFrom('yesterday', '1e3', '0x10', '2026-1-1', '+2026-01-01', '2026/01/01', ''))
    .map((text) => ({ text, real: null })),
);

/** Query numbers as people and probes write them. */
const limitArb: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -5, max: 120 }).map(String),
  fc.constantFrom('0x10', '1e2', '+5', ' 5', '5.0', '05', '1_0', 'Infinity', 'NaN', '', '١٢'),
);

describe(`fuzz: what read queries take (fast-check seed ${SEED + 3})`, () => {
  const RUNS_QUERIES = 150;

  it(`survives ${RUNS_QUERIES} usage ranges and page sizes: real dates and plain decimal numbers pass, the rest is 400, never a 5xx`, async () => {
    const t = await startTestApp();
    try {
      await request(t.baseUrl).post('/users').send({ user_id: 'reader' }).expect(201);
      const property = fc.asyncProperty(fc.option(dateArb, { nil: undefined }), dateArb, limitArb, async (from, to, limit) => {
        const usage = await request(t.baseUrl)
          .get('/users/reader/usage')
          .query({ ...(from ? { from: from.text } : {}), to: to.text });
        expect(usage.status).toBeLessThan(500);
        if (to.real === false || from?.real === false) expect(usage.status).toBe(400);
        if (to.real && (from === undefined || (from.real && from.text < to.text))) expect(usage.status).toBe(200);

        const page = await request(t.baseUrl).get('/sessions').query({ user_id: 'reader', limit });
        const plain = /^\d+$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 100;
        expect(page.status).toBe(plain ? 200 : 400);
      });
      await fc.assert(property, { seed: SEED + 3, numRuns: RUNS_QUERIES, verbose: 0 });
    } finally {
      await t.close();
    }
  }, 120_000);
});
