import type { Session } from '../session.js';
import { SessionDto } from './session.dto.js';

describe(SessionDto.name, () => {
  describe('fromSession', () => {
    it('reads fields a session remembered for an Idempotency-Key replay before they existed as their defaults', () => {
      const remembered = {
        id: '0b5c0000-0000-4000-8000-000000000000',
        userId: 'alice',
        title: null,
        model: 'gemini-2.5-flash',
        systemInstruction: null,
        createdAt: '2026-11-30T10:00:00.000Z',
        updatedAt: '2026-11-30T10:00:00.000Z',
        totals: { messageCount: 0, totalTokens: 0, totalCostNanoUsd: 0 },
      } as unknown as Session;
      expect(SessionDto.fromSession(remembered, 1_048_576, null)).toMatchObject({
        max_context_tokens: null,
        truncation: 'auto',
        context_limit: 1_048_576,
        context_tokens: null,
        model_notice: null,
      });
    });
  });
});
