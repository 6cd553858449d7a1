import createClient from 'openapi-fetch';
import type { paths } from '../support/openapi-types.js';
import { useTestApp } from '../support/test-app.js';

/**
 * A client made from the OpenAPI document alone (openapi-typescript's types, committed by
 * `npm run openapi`, and openapi-fetch) holds a whole conversation, without a cast: the
 * document says enough to write one. Type-checked by `npm run typecheck` as every spec is.
 */
describe('A client generated from the OpenAPI document', () => {
  const t = useTestApp();

  it('creates a session, sends a message, reads the history, estimates, exports and reads the usage', async () => {
    const api = createClient<paths>({ baseUrl: t.baseUrl });

    const created = await api.POST('/sessions', { body: { user_id: 'gen-client', title: 'Generated', system_instruction: 'Be brief.' } });
    expect(created.response.status).toBe(201);
    const session = created.data!;
    expect(session.user_id).toBe('gen-client');
    const sessionId: string = session.session_id;

    const sent = await api.POST('/sessions/{session_id}/messages', {
      params: { path: { session_id: sessionId }, header: { 'Idempotency-Key': 'generated-client-1' } },
      body: { message: 'Hello!' },
    });
    expect(sent.response.status).toBe(201);
    // The document says the answer is the 201 JSON body or, asked with Accept: text/event-stream, the 200 frames.
    if (!sent.data || Array.isArray(sent.data)) throw new Error('expected the JSON answer');
    const reply: string = sent.data.reply;
    expect(reply.length).toBeGreaterThan(0);
    const tokens: number = sent.data.model_message.usage!.total_tokens;
    expect(Number.isInteger(tokens)).toBe(true);

    const history = await api.GET('/sessions/{session_id}/history', { params: { path: { session_id: sessionId } } });
    expect(history.data!.messages.map((message) => message.role)).toEqual(['user', 'model']);
    expect(history.data!.message_count).toBe(2);

    const estimate = await api.POST('/sessions/{session_id}/estimate', {
      params: { path: { session_id: sessionId } },
      body: { message: 'And again?' },
    });
    expect(estimate.data!.messages_in_context).toBe(2);
    const promptTokens: number = estimate.data!.prompt_tokens;
    expect(promptTokens).toBeGreaterThan(0);

    const exported = await api.GET('/sessions/{session_id}/export', {
      params: { path: { session_id: sessionId }, query: { format: 'json' } },
    });
    // JSON or Markdown, as the document says.
    if (!exported.data || typeof exported.data === 'string') throw new Error('expected the JSON export');
    expect(exported.data.session.session_id).toBe(sessionId);
    expect(exported.data.messages).toHaveLength(2);
    const markdown = await api.GET('/sessions/{session_id}/export', {
      params: { path: { session_id: sessionId }, query: { format: 'markdown' } },
      parseAs: 'text',
    });
    expect(markdown.data).toContain('Hello!');

    const usage = await api.GET('/users/{user_id}/usage', { params: { path: { user_id: 'gen-client' } } });
    expect(usage.data!.turns).toBe(1);
    expect(usage.data!.by_model.map((entry) => entry.model)).toEqual([session.model]);

    const missing = await api.GET('/sessions/{session_id}', { params: { path: { session_id: '00000000-0000-4000-8000-000000000000' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error!.code).toBe('SESSION_NOT_FOUND');
  });
});
