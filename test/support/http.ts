import request from 'supertest';
import type { TestApp } from './test-app.js';

/** Starts a session for a user over HTTP and returns its id. */
export async function createSession(t: TestApp, body: Record<string, unknown> = {}): Promise<string> {
  const response = await request(t.baseUrl).post('/sessions').send(body).expect(201);
  return response.body.session_id as string;
}

export function send(t: TestApp, sessionId: string, message: string) {
  return request(t.baseUrl).post(`/sessions/${sessionId}/messages`).send({ message });
}

/** Rows of chat_history, in id order, straight from the database. */
export function historyRows(t: TestApp, chatId?: string): Promise<Record<string, unknown>[]> {
  return chatId
    ? t.query('SELECT * FROM chat_history WHERE chat_id = ? ORDER BY id', [chatId])
    : t.query('SELECT * FROM chat_history ORDER BY id');
}

export async function count(t: TestApp, table: 'users' | 'chat_sessions' | 'chat_history' | 'spend_ledger'): Promise<number> {
  const [row] = await t.query(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(row.n);
}

/** The error body of the contract, with its code. */
export function errorBody(status: number, code: string) {
  return { statusCode: status, error: expect.any(String), code, message: expect.any(String) };
}
