import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Caller } from '../access/caller.js';
import { DomainError, ErrorCode, UpstreamError, UpstreamTimeout } from '../common/errors.js';
import type { IdempotentRequest } from '../idempotency/idempotency-key.js';
import { ChatMessageEntity } from '../messages/chat-message.entity.js';
import { MessagesRepository } from '../messages/messages.repository.js';
import { Metrics } from '../metrics/metrics.js';
import { ChatSessionEntity } from '../sessions/chat-session.entity.js';
import { chatTarget } from '../sessions/turn-target.js';
import { UsageRepository } from '../usage/usage.repository.js';
import { UserEntity } from '../users/user.entity.js';
import { anLlmResult, aUsage, createWorld, gate, messagesOf, sessionOf, storeSession, storeTurn } from '../../test/support/unit-world.js';
import type { World } from '../../test/support/unit-world.js';
import { TurnService, titleFrom } from './turn.service.js';

describe('titleFrom', () => {
  it.each([
    ['Hello', 'Hello'],
    ['  spaced\n\tout  ', 'spaced out'],
    ['x'.repeat(60), 'x'.repeat(60)],
    [
      'Plan a three-day trip to Lisbon with good food, museums and a day at the beach',
      'Plan a three-day trip to Lisbon with good food, museums and…',
    ],
    ['y'.repeat(80), `${'y'.repeat(60)}…`],
    ['😀'.repeat(70), `${'😀'.repeat(60)}…`],
  ])('names a session after %j', (message, title) => {
    expect(titleFrom(message)).toBe(title);
  });
});

const OPEN: Caller = { kind: 'open' };
const aliceKey = (): Caller => ({ kind: 'user', userId: 'alice', keyId: 'key-alice' });
const onSession = (sessionId: string) => ({ kind: 'session' as const, sessionId });
const onChat = (sessionId: string, ownerId: string) => ({ kind: 'chat' as const, sessionId, ownerId });

/** A request's Idempotency-Key as the edge hands it over; `replays` counts the answers it marked as replays. */
function keyed(key: string): IdempotentRequest & { replays: number } {
  const request = { key, replays: 0, markReplayed: () => void (request.replays += 1) };
  return request;
}

/** Rows of each table, to prove what a turn did or did not store. */
async function rowCounts(world: World): Promise<{ users: number; sessions: number; messages: number }> {
  const manager = world.dataSource.manager;
  return {
    users: await manager.count(UserEntity),
    sessions: await manager.count(ChatSessionEntity),
    messages: await manager.count(ChatMessageEntity),
  };
}

describe(TurnService.name, () => {
  let world: World | undefined;

  async function setUp(env: Record<string, string> = {}) {
    world = await createWorld(env);
    return { world, llm: world.llm, rateLimiter: world.rateLimiter, turns: world.turns };
  }

  /**
   * Alice's session with a first turn sent and held at Gemini until `answerFirst()` ('first reply').
   * The rate limiter has counted two calls then: the session's creation and the first turn.
   */
  async function firstTurnAtGemini(options: { idempotency?: IdempotentRequest } = {}) {
    const harness = await setUp();
    const session = await storeSession(harness.world, { userId: 'alice' });
    const firstAnswer = gate<void>();
    harness.llm.answer(async () => {
      await firstAnswer.promise;
      return anLlmResult({ text: 'first reply' });
    });
    const first = harness.turns.send(OPEN, onSession(session.id), 'first message', options);
    await harness.llm.called(1);
    return { ...harness, session, first, answerFirst: () => firstAnswer.open() };
  }

  afterEach(async () => {
    jest.restoreAllMocks();
    const llm = world?.llm;
    await world?.close();
    world = undefined;
    // The fake LLM is strict: a call the test did not script fails the test.
    expect(llm?.unexpected).toEqual([]);
  });

  describe('send', () => {
    describe('ownership', () => {
      it("refuses a user key on another user's session with SESSION_NOT_FOUND, before any call", async () => {
        const { world, llm, turns } = await setUp();
        const bobs = await storeSession(world, { userId: 'bob' });

        await expect(turns.send(aliceKey(), onSession(bobs.id), 'Hi')).rejects.toMatchObject({ code: ErrorCode.SESSION_NOT_FOUND });
        expect(llm.requests).toEqual([]);
        await expect(rowCounts(world)).resolves.toMatchObject({ messages: 0 });
      });

      it("refuses a /chat target whose ownerId is not the session's owner with CHAT_NOT_FOUND", async () => {
        const { world, llm, turns } = await setUp();
        const bobs = await storeSession(world, { userId: 'bob' });

        await expect(turns.send(OPEN, onChat(bobs.id, 'alice'), 'Hi')).rejects.toMatchObject({
          code: ErrorCode.CHAT_NOT_FOUND,
        });
        expect(llm.requests).toEqual([]);
      });

      it.each([
        ['a well-formed unknown UUID', '00000000-0000-4000-8000-000000000000'],
        ['not a UUID', 'not-a-uuid'],
        ['an empty string', ''],
        ['SQL', "' OR 1=1 --"],
        ['a path', '../../etc/passwd'],
        ['a very long id', 'x'.repeat(500)],
        ['a NUL (PostgreSQL refuses it in a query)', '\u0000'],
      ])('answers 404 for an unknown id: %s', async (_shape, sessionId) => {
        const { llm, turns } = await setUp();

        await expect(turns.send(OPEN, onSession(sessionId), 'Hi')).rejects.toMatchObject({ code: ErrorCode.SESSION_NOT_FOUND });
        await expect(turns.send(OPEN, onChat(sessionId, 'alice'), 'Hi')).rejects.toMatchObject({ code: ErrorCode.CHAT_NOT_FOUND });
        expect(llm.requests).toEqual([]);
      });
    });

    it("sends the stored history in order, then the new message, with the session's system instruction", async () => {
      const { world, llm, turns } = await setUp();
      const session = await storeSession(world, { userId: 'alice', systemInstruction: 'Be brief.', model: 'gemini-2.5-pro' });
      await storeTurn(world, session.id, { userMessage: 'first question', reply: 'first answer' });
      await storeTurn(world, session.id, { userMessage: 'second question', reply: 'second answer' });
      llm.answer(anLlmResult({ modelVersion: 'gemini-2.5-pro' }));

      await expect(turns.send(OPEN, onSession(session.id), 'third question')).resolves.toMatchObject({ replayed: false });

      expect(llm.requests).toEqual([
        {
          model: 'gemini-2.5-pro',
          systemInstruction: 'Be brief.',
          contents: [
            { role: 'user', text: 'first question' },
            { role: 'model', text: 'first answer' },
            { role: 'user', text: 'second question' },
            { role: 'model', text: 'second answer' },
            { role: 'user', text: 'third question' },
          ],
        },
      ]);
    });

    describe('a new chat (no session id)', () => {
      it('stores no session, user or message when the LLM fails', async () => {
        const { world, llm, turns } = await setUp();
        llm.fail(new UpstreamError('x'));

        await expect(turns.send(OPEN, chatTarget('u', undefined), 'Hello there')).rejects.toMatchObject({
          code: ErrorCode.UPSTREAM_ERROR,
        });
        expect(llm.requests).toHaveLength(1);
        await expect(rowCounts(world)).resolves.toEqual({ users: 0, sessions: 0, messages: 0 });
      });

      it('stores the session, its user and both messages on success, titled after the first message', async () => {
        const { world, llm, turns } = await setUp();
        const message = 'Plan a three-day trip to Lisbon with good food, museums and a day at the beach';
        llm.answer(anLlmResult({ text: 'Day one: Alfama.' }));

        const reply = await turns.send(OPEN, chatTarget('u', undefined), message);

        expect(reply.replayed).toBe(false);
        expect(llm.requests[0]).toMatchObject({ contents: [{ role: 'user', text: message }], systemInstruction: null });
        await expect(sessionOf(world, reply.result.sessionId)).resolves.toMatchObject({
          userId: 'u',
          title: titleFrom(message),
        });
        await expect(world.users.find('u')).resolves.toMatchObject({ userId: 'u' });
        await expect(messagesOf(world, reply.result.sessionId)).resolves.toMatchObject([
          { role: 'user', content: message },
          { role: 'model', content: 'Day one: Alfama.' },
        ]);
        await expect(rowCounts(world)).resolves.toEqual({ users: 1, sessions: 1, messages: 2 });
      });
    });

    it('stores nothing when a turn on an existing session fails', async () => {
      const { world, llm, turns } = await setUp();
      const session = await storeSession(world, { userId: 'alice' });
      await storeTurn(world, session.id);
      const before = await sessionOf(world, session.id);
      llm.fail(new UpstreamError('x'));

      await expect(turns.send(OPEN, onSession(session.id), 'Hi again')).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_ERROR });

      await expect(messagesOf(world, session.id)).resolves.toHaveLength(2);
      await expect(sessionOf(world, session.id)).resolves.toEqual(before);
    });

    it('propagates an upstream timeout, stores nothing and releases the budget reservation', async () => {
      const { world, llm, turns } = await setUp({ USER_DAILY_BUDGET_USD: '5' });
      const session = await storeSession(world, { userId: 'alice' });
      let reservedDuringCall: number | undefined;
      llm.answer(async () => {
        reservedDuringCall = await world.reservations.reservedFor('alice');
        throw new UpstreamTimeout('Gemini did not answer in time.');
      });

      await expect(turns.send(OPEN, onSession(session.id), 'Hi')).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_TIMEOUT });

      expect(reservedDuringCall).toBeGreaterThan(0);
      expect(await world.reservations.reservedFor('alice')).toBe(0);
      await expect(rowCounts(world)).resolves.toMatchObject({ messages: 0 });
    });

    it('refuses a user whose spend today reached USER_DAILY_BUDGET_USD, before any call', async () => {
      const { world, llm, turns } = await setUp({ USER_DAILY_BUDGET_USD: '0.001' });
      const session = await storeSession(world, { userId: 'alice' });
      await storeTurn(world, session.id, { costNanoUsd: 1_000_000 });

      const refusal = turns.send(OPEN, onSession(session.id), 'One more?');

      await expect(refusal).rejects.toBeInstanceOf(DomainError);
      await expect(refusal).rejects.toMatchObject({ code: ErrorCode.BUDGET_EXCEEDED, retryAfterSeconds: expect.any(Number) });
      expect(llm.requests).toEqual([]);
      await expect(messagesOf(world, session.id)).resolves.toHaveLength(2);
    });

    describe('with an Idempotency-Key', () => {
      it('replays the first reply for the same key and message, calling the LLM once', async () => {
        const { world, llm, turns } = await setUp();
        const session = await storeSession(world, { userId: 'alice' });
        llm.answer(anLlmResult({ text: 'Only once.' }));

        const [firstKey, secondKey] = [keyed('turn-1'), keyed('turn-1')];
        const first = await turns.send(OPEN, onSession(session.id), 'Hi', { idempotency: firstKey });
        const second = await turns.send(OPEN, onSession(session.id), 'Hi', { idempotency: secondKey });

        expect(first.replayed).toBe(false);
        expect(second.replayed).toBe(true);
        expect([firstKey.replays, secondKey.replays]).toEqual([0, 1]);
        expect(second.upstreamMs).toBeNull();
        expect(second.result).toEqual(first.result);
        expect(first.result.modelMessage.content).toBe('Only once.');
        expect(llm.requests).toHaveLength(1);
        await expect(messagesOf(world, session.id)).resolves.toHaveLength(2);
      });

      it('commits the outcome with the turn: no moment where the turn is stored and its key still running', async () => {
        const { world, llm, turns } = await setUp();
        const session = await storeSession(world, { userId: 'alice' });
        llm.answer(anLlmResult({ text: 'Stored with its outcome.' }));
        // What a crash right after each commit would leave: stored messages, and the key's state.
        const afterEachCommit: { messages: number; key: string | undefined }[] = [];
        const commit = world.unitOfWork.commit.bind(world.unitOfWork);
        jest.spyOn(world.unitOfWork, 'commit').mockImplementation(async (work) => {
          const result = await commit(work);
          const record = await world.repositories.idempotency.find({ scope: 'user:alice', idempotencyKey: 'turn-1' });
          afterEachCommit.push({ messages: (await rowCounts(world)).messages, key: record?.state });
          return result;
        });

        await turns.send(OPEN, onSession(session.id), 'Hi', { idempotency: keyed('turn-1') });

        // The key's claim, the turn's reservation (written before the call), the turn.
        expect(afterEachCommit).toEqual([
          { messages: 0, key: 'running' },
          { messages: 0, key: 'running' },
          { messages: 2, key: 'done' },
        ]);
      });

      it('refuses the same key with another message with IDEMPOTENCY_KEY_REUSED', async () => {
        const { world, llm, turns } = await setUp();
        const session = await storeSession(world, { userId: 'alice' });
        llm.answer(anLlmResult());
        await turns.send(OPEN, onSession(session.id), 'Hi', { idempotency: keyed('turn-1') });

        await expect(turns.send(OPEN, onSession(session.id), 'Something else', { idempotency: keyed('turn-1') })).rejects.toMatchObject({
          code: ErrorCode.IDEMPOTENCY_KEY_REUSED,
        });
        expect(llm.requests).toHaveLength(1);
        await expect(messagesOf(world, session.id)).resolves.toHaveLength(2);
      });
    });

    it("runs a session's turns one at a time: the second sees the first's messages", async () => {
      const { world, llm, rateLimiter, turns, session, first, answerFirst } = await firstTurnAtGemini();
      llm.answer(anLlmResult({ text: 'second reply' }));
      const second = turns.send(OPEN, onSession(session.id), 'second message');
      // The second turn is counted and queued behind the first, which still waits for Gemini.
      await rateLimiter.takenTimes(3);
      expect(llm.requests).toHaveLength(1);
      answerFirst();

      await expect(first).resolves.toMatchObject({ result: { modelMessage: { content: 'first reply' } } });
      await expect(second).resolves.toMatchObject({ result: { modelMessage: { content: 'second reply' } } });
      expect(llm.requests[1].contents).toEqual([
        { role: 'user', text: 'first message' },
        { role: 'model', text: 'first reply' },
        { role: 'user', text: 'second message' },
      ]);
      const stored = await messagesOf(world, session.id);
      expect(stored.map((m) => m.content)).toEqual(['first message', 'first reply', 'second message', 'second reply']);
    });

    it('keeps the line when a turn between two others is refused: the third still waits for the first', async () => {
      const { llm, rateLimiter, turns, session, first, answerFirst } = await firstTurnAtGemini({ idempotency: keyed('turn-1') });
      llm.answer(anLlmResult({ text: 'third reply' }));
      // The first one's key again while it runs: refused once it has its place in the line.
      const refused = turns.send(OPEN, onSession(session.id), 'first message', { idempotency: keyed('turn-1') });
      const third = turns.send(OPEN, onSession(session.id), 'third message');
      await expect(refused).rejects.toMatchObject({ code: ErrorCode.IDEMPOTENCY_IN_PROGRESS });
      await rateLimiter.takenTimes(3);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(llm.requests).toHaveLength(1);
      answerFirst();

      await first;
      await third;
      expect(llm.requests[1].contents.map((content) => content.text)).toEqual(['first message', 'first reply', 'third message']);
    });

    it('drains: finishes the turn at Gemini, refuses the one waiting behind it and any new one with NOT_READY', async () => {
      const { world, llm, rateLimiter, turns, session, first, answerFirst } = await firstTurnAtGemini();
      const waiting = turns.send(OPEN, onSession(session.id), 'second message');
      await rateLimiter.takenTimes(3);
      const drained = turns.drain(5_000);
      await expect(turns.send(OPEN, onSession(session.id), 'too late')).rejects.toMatchObject({ code: ErrorCode.NOT_READY });
      answerFirst();

      await expect(first).resolves.toMatchObject({ result: { modelMessage: { content: 'first reply' } } });
      await expect(waiting).rejects.toMatchObject({ code: ErrorCode.NOT_READY });
      await expect(drained).resolves.toBe(true);
      expect(llm.requests).toHaveLength(1);
      const stored = await messagesOf(world, session.id);
      expect(stored.map((m) => m.content)).toEqual(['first message', 'first reply']);
    });

    it('records the spend of a paid turn whose storing failed, and stores nothing else of it', async () => {
      const { world, llm, turns } = await setUp();
      const session = await storeSession(world, { userId: 'alice' });
      llm.answer(anLlmResult({ text: 'paid for', usage: aUsage({ promptTokens: 100, outputTokens: 10, totalTokens: 110 }) }));
      jest.spyOn(MessagesRepository.prototype, 'appendTurn').mockRejectedValueOnce(new Error('disk full'));

      await expect(turns.send(OPEN, onSession(session.id), 'Hi')).rejects.toThrow('disk full');

      const { total } = await world.repositories.usage.report('alice', { from: null, to: null });
      expect(total).toMatchObject({ turns: 1, costNanoUsd: 100 * 300 + 10 * 2_500 });
      await expect(rowCounts(world)).resolves.toMatchObject({ messages: 0 });
      await expect(sessionOf(world, session.id)).resolves.toMatchObject({ totals: { messageCount: 0, totalCostNanoUsd: 0 } });
    });

    it('logs everything the ledger line would hold, and counts it, when even the spend alone cannot be written', async () => {
      const { world, llm, turns } = await setUp();
      const session = await storeSession(world, { userId: 'alice' });
      llm.answer(anLlmResult({ text: 'paid for', usage: aUsage({ promptTokens: 100, outputTokens: 10, totalTokens: 110 }) }));
      jest.spyOn(MessagesRepository.prototype, 'appendTurn').mockRejectedValueOnce(new Error('disk full'));
      jest.spyOn(UsageRepository.prototype, 'recordOnce').mockRejectedValueOnce(new Error('still full'));
      const errors: string[] = [];
      jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));

      await expect(turns.send(OPEN, onSession(session.id), 'Hi')).rejects.toThrow('disk full');

      expect(errors).toEqual([expect.stringMatching(/its spend could not be recorded: Error: still full; spend \{.*\}$/)]);
      const logged = JSON.parse(errors[0].slice(errors[0].indexOf('spend {') + 'spend '.length));
      expect(logged).toMatchObject({
        userId: 'alice',
        sessionId: session.id,
        model: 'gemini-2.5-flash', // the one that answered (the scripted reply's), as the ledger names it
        usage: { prompt_tokens: 100, output_tokens: 10, total_tokens: 110 },
        costNanoUsd: 100 * 300 + 10 * 2_500,
        costStatus: 'priced',
      });
      const unrecorded = await world.module.get(Metrics).registry.getSingleMetricAsString('gemini_chat_spend_unrecorded_total');
      expect(unrecorded).toMatch(/^gemini_chat_spend_unrecorded_total 1$/m);
    });

    it('stores the cost PricingService gives for the usage the LLM reported', async () => {
      const { world, llm, turns } = await setUp();
      const session = await storeSession(world, { userId: 'alice', model: 'gemini-2.5-flash' });
      const usage = aUsage({ promptTokens: 12_345, cachedTokens: 2_000, outputTokens: 678, thoughtsTokens: 910, totalTokens: 13_933 });
      const expected = world.pricing.cost('models/gemini-2.5-pro-001', 'gemini-2.5-flash', usage);
      expect(expected).toMatchObject({ costStatus: 'priced', costNanoUsd: expect.any(Number), pricedAs: 'gemini-2.5-pro' });
      llm.answer(anLlmResult({ usage, modelVersion: 'models/gemini-2.5-pro-001' }));

      const reply = await turns.send(OPEN, onSession(session.id), 'How much?');

      expect(reply.result.modelMessage).toMatchObject({
        costNanoUsd: expected.costNanoUsd,
        costStatus: 'priced',
        model: 'gemini-2.5-pro-001',
        usage,
      });
      expect(reply.result.sessionTotals).toEqual({ messageCount: 2, totalTokens: 13_933, totalCostNanoUsd: expected.costNanoUsd });
      const [, storedModel] = await messagesOf(world, session.id);
      expect(storedModel.costNanoUsd).toBe(expected.costNanoUsd);
    });
  });
});
