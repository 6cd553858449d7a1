import request from 'supertest';
import { APP_HOOK_TIMEOUT_MS, startTestApp, useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

describe('GET /me', () => {
  describe('in open mode', () => {
    const t = useTestApp();

    it('is role open with no user', async () => {
      expect((await request(t.baseUrl).get('/me').expect(200)).body).toEqual({ user_id: null, role: 'open' });
    });
  });

  describe('with ADMIN_API_KEY set', () => {
    const ADMIN_KEY = 'admin-key-for-the-me-spec-0123456789';
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY } });
    }, APP_HOOK_TIMEOUT_MS);
    afterAll(() => t.close(), APP_HOOK_TIMEOUT_MS);

    it('says the admin key is the admin, acting for no one user', async () => {
      const response = await request(t.baseUrl).get('/me').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
      expect(response.body).toEqual({ user_id: null, role: 'admin' });
    });

    it("says a user key acts as its user, and a revoked one is refused like any route's", async () => {
      const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
      await request(t.baseUrl).post('/users').set(admin).send({ user_id: 'alice' }).expect(201);
      const issued = (await request(t.baseUrl).post('/users/alice/api-keys').set(admin).expect(201)).body;
      const asAlice = { Authorization: `Bearer ${issued.key}` };
      expect((await request(t.baseUrl).get('/me').set(asAlice).expect(200)).body).toEqual({ user_id: 'alice', role: 'user' });
      await request(t.baseUrl).delete(`/users/alice/api-keys/${issued.key_id}`).set(admin).expect(204);
      const refused = await request(t.baseUrl).get('/me').set(asAlice).expect(401);
      expect(refused.body.code).toBe('UNAUTHORIZED');
      expect(refused.headers['www-authenticate']).toBe('Bearer');
    });

    it('is 401 without a key', async () => {
      await request(t.baseUrl).get('/me').expect(401);
    });
  });
});
