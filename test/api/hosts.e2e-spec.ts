import request from 'supertest';
import { count, createSession, historyRows } from '../support/http.js';
import { raw } from '../support/raw-http.js';
import { useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

const ADMIN_KEY = 'admin-key-of-the-hosts-spec-0123456789';

/** The refusal of a Host the service does not answer to: the same body wherever it is sent. */
const refusal = (host: string) => ({
  statusCode: 403,
  error: 'Forbidden',
  code: 'HOST_NOT_ALLOWED',
  message: `The Host "${host}" is not served here: only loopback names (localhost, 127.0.0.1, [::1]) and the names in ALLOWED_HOSTS are.`,
});

const asHost = (t: TestApp, host: string) => ({
  get: (path: string) => request(t.baseUrl).get(path).set('Host', host),
  post: (path: string, body: object) => request(t.baseUrl).post(path).set('Host', host).send(body),
});

/**
 * DNS rebinding: a page at evil.example whose name is rebound to 127.0.0.1 reaches an open-mode
 * service from the laptop's browser, but its requests say `Host: evil.example`.
 */
describe('Open mode answers only loopback Hosts', () => {
  const t = useTestApp();

  it('refuses a foreign Host before anything is done: nothing read, created or sent to Gemini', async () => {
    const sessionId = await createSession(t, { user_id: 'laptop-owner' });
    const evil = asHost(t, 'evil.example:3000');
    const turn = await evil.post(`/sessions/${sessionId}/messages`, { message: 'spend their key' }).expect(403);
    expect(turn.body).toEqual(refusal('evil.example:3000'));
    expect(turn.headers.connection).toBe('close');
    expect((await evil.post('/sessions', { user_id: 'attacker' }).expect(403)).body).toEqual(refusal('evil.example:3000'));
    expect((await evil.post('/chat', { user_id: 'attacker', message: 'hi' }).expect(403)).body.code).toBe('HOST_NOT_ALLOWED');
    for (const path of [
      `/sessions/${sessionId}/history`,
      '/sessions?user_id=laptop-owner',
      '/users/laptop-owner/usage',
      '/',
      '/docs-json',
    ]) {
      const read = await evil.get(path).expect(403);
      expect(read.body).toEqual(refusal('evil.example:3000'));
    }
    expect(t.emulator.generateRequests()).toHaveLength(0);
    expect(await historyRows(t, sessionId)).toEqual([]);
    expect(await t.query("SELECT user_id FROM users WHERE user_id = 'attacker'")).toEqual([]);
    expect(await count(t, 'spend_ledger')).toBe(0);
  });

  it('refuses a foreign Host from the headers alone: an announced body is never waited for', async () => {
    const answer = await raw(
      t.baseUrl,
      'POST /sessions HTTP/1.1\nHost: rebound.example\nContent-Type: application/json\nContent-Length: 900000\n\n{"user_id":"slow',
    );
    expect(answer).toMatchObject({ status: 403, closed: true });
    expect(JSON.parse(answer.body)).toEqual(refusal('rebound.example'));
    expect(await t.query("SELECT user_id FROM users WHERE user_id LIKE 'slow%'")).toEqual([]);
  });

  it('refuses a request without a Host header', async () => {
    // HTTP/1.1 without Host is refused by Node itself (400); HTTP/1.0 may leave it out.
    const answer = await raw(t.baseUrl, 'GET /sessions?user_id=laptop-owner HTTP/1.0\n\n');
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({
      code: 'HOST_NOT_ALLOWED',
      message: expect.stringMatching(/^A request without a Host header is not served here/),
    });
  });

  it.each(['localhost', 'LocalHost:3000', '127.0.0.1', '127.8.9.10:80', '[::1]', '[::1]:3000', '[0:0::1]:8080'])(
    'serves the loopback Host %s',
    async (host) => {
      const sessionId = await createSession(t);
      const turn = await asHost(t, host).post(`/sessions/${sessionId}/messages`, { message: 'from this machine' }).expect(201);
      expect(turn.body.reply).toContain('from this machine');
      await asHost(t, host).get('/').expect(200);
    },
  );

  it.each(['evil.example', 'localhost.evil.example', '127.0.0.1.evil.example', 'evil.example:80', '10.0.0.5', 'localhost@evil.example'])(
    'refuses the Host %s',
    async (host) => {
      expect((await asHost(t, host).get('/models').expect(403)).body.code).toBe('HOST_NOT_ALLOWED');
    },
  );

  it('answers the health checks under any Host: a load balancer probes by address, and they hold no data', async () => {
    const health = await asHost(t, '10.0.0.5:3000').get('/health').expect(200);
    expect(health.body).toMatchObject({ status: 'ok', auth: 'off' });
    await asHost(t, 'evil.example').get('/health/ready').expect(200);
  });
});

describe('ALLOWED_HOSTS', () => {
  describe('in open mode', () => {
    const t = useTestApp({ env: { ALLOWED_HOSTS: 'Chat.Example.test, 10.0.0.5:3000' } });

    it('serves a listed name on any port, a listed name with a port on that port only, and loopback names still', async () => {
      const sessionId = await createSession(t);
      await asHost(t, 'chat.example.test').post(`/sessions/${sessionId}/messages`, { message: 'by name' }).expect(201);
      await asHost(t, 'CHAT.example.test:8443').get(`/sessions/${sessionId}`).expect(200);
      await asHost(t, '10.0.0.5:3000').get(`/sessions/${sessionId}`).expect(200);
      await asHost(t, 'localhost:3000').get(`/sessions/${sessionId}`).expect(200);
      expect((await asHost(t, '10.0.0.5:3001').get(`/sessions/${sessionId}`).expect(403)).body).toEqual(refusal('10.0.0.5:3001'));
      expect((await asHost(t, '10.0.0.5').get(`/sessions/${sessionId}`).expect(403)).body.code).toBe('HOST_NOT_ALLOWED');
      expect((await asHost(t, 'evil.example').get(`/sessions/${sessionId}`).expect(403)).body.code).toBe('HOST_NOT_ALLOWED');
      expect((await asHost(t, 'sub.chat.example.test').get(`/sessions/${sessionId}`).expect(403)).body.code).toBe('HOST_NOT_ALLOWED');
      expect(t.emulator.generateRequests()).toHaveLength(1);
    });
  });

  describe('with keys required', () => {
    const t = useTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY, ALLOWED_HOSTS: 'api.example.test' } });

    it('still restricts Hosts: the admin key under a foreign Host is refused', async () => {
      const admin = `Bearer ${ADMIN_KEY}`;
      await request(t.baseUrl).get('/models').set('Host', 'api.example.test').set('Authorization', admin).expect(200);
      const refused = await request(t.baseUrl).get('/models').set('Host', 'evil.example').set('Authorization', admin).expect(403);
      expect(refused.body).toEqual(refusal('evil.example'));
      await request(t.baseUrl).get('/health').set('Host', '10.0.0.5').expect(200);
    });
  });
});

describe('Keys required and no ALLOWED_HOSTS', () => {
  const t = useTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY } });

  it('serves any Host: the keys protect the service', async () => {
    const response = await request(t.baseUrl).get('/models').set('Host', 'chat.example.com').set('Authorization', `Bearer ${ADMIN_KEY}`);
    expect(response.status).toBe(200);
    await request(t.baseUrl).get('/models').set('Host', 'chat.example.com').expect(401);
  });
});
