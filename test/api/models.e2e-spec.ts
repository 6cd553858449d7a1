import request from 'supertest';
import { DEFAULTS } from '../../src/config/environment.js';
import { createSession } from '../support/http.js';
import { APP_HOOK_TIMEOUT_MS, startTestApp, useTestApp } from '../support/test-app.js';

/** A test that starts and closes an app of its own: both take seconds on a busy machine. */
const TEST_WITH_APP_MS = 2 * APP_HOOK_TIMEOUT_MS;

describe('GET /models', () => {
  const t = useTestApp();

  it('lists every model of the table with rates, token limits, lifecycle, sources and the date they were read', async () => {
    const models: any[] = (await request(t.baseUrl).get('/models').expect(200)).body;
    const byId = new Map(models.map((model) => [model.model, model]));
    expect(byId.get(DEFAULTS.GEMINI_MODEL)).toMatchObject({
      status: 'stable',
      shutdown_date: null,
      replacement: null,
      input_token_limit: 1_048_576,
      output_token_limit: 65_536,
      input_per_million_usd: 0.3,
      output_per_million_usd: 2.5,
      read: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      sources: expect.arrayContaining([expect.objectContaining({ url: 'https://ai.google.dev/gemini-api/docs/pricing' })]),
      unconfirmed: [],
    });
    // Retired models stay: stored turns are priced with them.
    expect(byId.get('gemini-2.0-flash')).toMatchObject({
      status: 'retired',
      shutdown_date: '2026-06-01',
      replacement: expect.any(String),
      output_token_limit: 8192,
    });
    // Announced price changes are listed with their dates; the rates shown are those in force today.
    const flash = byId.get('gemini-3.8-flash');
    expect(flash.price_changes).toEqual([
      expect.objectContaining({ from: '2027-01-01', input_per_million_usd: 1.5, output_per_million_usd: 7.5 }),
    ]);
    expect(flash.input_per_million_usd).toBe(new Date() < new Date('2027-01-01T00:00:00Z') ? 0.75 : 1.5);
    for (const model of models) {
      expect(model).toEqual(
        expect.objectContaining({
          status: expect.stringMatching(/^(stable|preview|deprecated|retired)$/),
          input_token_limit: expect.any(Number),
          sources: expect.any(Array),
        }),
      );
    }
  });
});

describe('Model notices in /health', () => {
  it(
    'name a retired GEMINI_MODEL and the retired models of stored sessions, with their replacements',
    async () => {
      const t = await startTestApp({ env: { GEMINI_MODEL: 'gemini-2.5-flash' } });
      try {
        await createSession(t, { model: 'gemini-2.0-flash' });
        await createSession(t, { model: DEFAULTS.GEMINI_MODEL });
        const health = (await request(t.baseUrl).get('/health').expect(200)).body;
        // The session says so too.
        const sessions = (await request(t.baseUrl).get('/sessions?user_id=anonymous').expect(200)).body.data;
        expect(sessions.map((session: any) => [session.model, session.model_notice])).toEqual([
          [DEFAULTS.GEMINI_MODEL, null],
          ['gemini-2.0-flash', { status: 'retired', shutdown_date: '2026-06-01', replacement: 'gemini-3.5-flash' }],
        ]);
        expect(health.model_notices).toEqual([
          {
            model: 'gemini-2.5-flash',
            status: 'retired',
            shutdown_date: '2026-12-01',
            replacement: 'gemini-3.5-flash-lite',
            used_by: 'GEMINI_MODEL',
          },
          {
            model: 'gemini-2.0-flash',
            status: 'retired',
            shutdown_date: '2026-06-01',
            replacement: 'gemini-3.5-flash',
            used_by: 'sessions',
          },
        ]);
      } finally {
        await t.close();
      }
    },
    TEST_WITH_APP_MS,
  );

  it(
    'are empty when every model in use is served',
    async () => {
      const t = await startTestApp();
      try {
        await createSession(t, { model: DEFAULTS.GEMINI_MODEL });
        expect((await request(t.baseUrl).get('/health').expect(200)).body.model_notices).toEqual([]);
      } finally {
        await t.close();
      }
    },
    TEST_WITH_APP_MS,
  );
});
