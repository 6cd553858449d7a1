import { HEADERS_TIMEOUT_MS } from '../../src/app.setup.js';
import { raw } from '../support/raw-http.js';
import { runServer, SERVER_TEST_TIMEOUT_MS } from '../support/server-process.js';
import type { ServerProcess } from '../support/server-process.js';
import { useTestApp } from '../support/test-app.js';

const ADMIN_KEY = 'admin-key-of-the-slow-client-spec-0123456789';
const BODY_TIMEOUT_MS = 800;

/** Clients that announce bodies and never send them: answered from the headers, and let go. */
describe('Slow and keyless clients', () => {
  const t = useTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY, REQUEST_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) } });

  it('answers 50 connections that announce a body without a key with 401 at once, and closes them', async () => {
    const head = 'POST /sessions HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: 900000\n\n{';
    const answers = await Promise.all(Array.from({ length: 50 }, () => raw(t.baseUrl, head)));
    expect(answers.map((answer) => [answer.status, answer.closed])).toEqual(Array(50).fill([401, true]));
    expect(JSON.parse(answers[0].body)).toMatchObject({ code: 'UNAUTHORIZED' });
    // Had anything waited for the body (which never comes), the answer would be 408.
  });

  it('answers a Content-Length over 1 MiB with 413 from the headers alone, and closes', async () => {
    const answer = await raw(
      t.baseUrl,
      `POST /sessions HTTP/1.1\nHost: x\nAuthorization: Bearer ${ADMIN_KEY}\nContent-Type: application/json\nContent-Length: 99999999999\n\n{`,
    );
    expect(answer).toMatchObject({ status: 413, closed: true });
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers a body drip-fed past REQUEST_BODY_TIMEOUT_MS with 408, closes, and stores nothing', async () => {
    const answer = await raw(
      t.baseUrl,
      `POST /users HTTP/1.1\nHost: x\nAuthorization: Bearer ${ADMIN_KEY}\nContent-Type: application/json\nContent-Length: 1000\n\n{"user_id":"drip`,
      { drip: ' ' },
    );
    expect(answer).toMatchObject({ status: 408, closed: true });
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'REQUEST_TIMEOUT' });
    expect(answer.ms).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS);
    expect(await t.query("SELECT user_id FROM users WHERE user_id LIKE 'drip%'")).toEqual([]);
  });

  it('still serves a whole body sent in pieces within the limit', async () => {
    const body = JSON.stringify({ user_id: 'pieces' });
    const answer = await raw(
      t.baseUrl,
      `POST /users HTTP/1.1\nHost: x\nAuthorization: Bearer ${ADMIN_KEY}\nContent-Type: application/json\nContent-Length: ${body.length}\nConnection: close\n\n${body}`,
    );
    expect(answer).toMatchObject({ status: 201, closed: true });
  });
});

/**
 * Slowloris: a request line that never ends. Node closes such a connection once it is past
 * `headersTimeout` (10 s) — but only when it next checks, which by default is every 30 s (closed
 * after 13–37 s, measured). Both ways the service is started are checked: a test app, and the
 * built server as `npm start` runs it.
 */
describe('Connections that never finish their headers', () => {
  const t = useTestApp();
  let server: ServerProcess;
  let serverUrl: string;

  beforeAll(async () => {
    server = runServer({ DATABASE_URL: 'sqlite::memory:' });
    serverUrl = await server.ready;
  }, SERVER_TEST_TIMEOUT_MS);

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
  }, SERVER_TEST_TIMEOUT_MS);

  it(
    'are answered 408 and closed 10–11 s after they open',
    async () => {
      const partial = 'GET /health HT';
      const answers = await Promise.all([raw(t.baseUrl, partial, { waitMs: 15_000 }), raw(serverUrl, partial, { waitMs: 15_000 })]);
      for (const answer of answers) {
        expect(answer).toMatchObject({ status: 408, closed: true });
        // Timers may fire a little early on a busy machine, never seconds early.
        expect(answer.ms).toBeGreaterThan(HEADERS_TIMEOUT_MS - 500);
        expect(answer.ms).toBeLessThan(15_000);
      }
    },
    SERVER_TEST_TIMEOUT_MS,
  );
});
