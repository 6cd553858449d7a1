import { jest } from '@jest/globals';
import { createWorld, storeSession, storeTurn } from '../../test/support/unit-world.js';
import type { World } from '../../test/support/unit-world.js';
import { MessagesRepository } from './messages.repository.js';
import { ConversationCache } from './conversation-cache.js';

describe(ConversationCache.name, () => {
  let world: World;

  beforeEach(async () => {
    world = await createWorld();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await world.close();
  });

  const contents = (messages: readonly { content: string }[] | null) => messages?.map(({ content }) => content);

  it('reads a session whole once, then only what was stored since', async () => {
    const session = await storeSession(world);
    const [, lastHeld] = await storeTurn(world, session.id, { userMessage: 'q1', reply: 'a1' });
    const since = jest.spyOn(MessagesRepository.prototype, 'since');

    expect(contents(await world.conversations.of(session.id))).toEqual(['q1', 'a1']);
    await storeTurn(world, session.id, { userMessage: 'q2', reply: 'a2' });
    expect(contents(await world.conversations.of(session.id))).toEqual(['q1', 'a1', 'q2', 'a2']);

    expect(since.mock.calls).toEqual([
      [session.id, 0],
      [session.id, lastHeld.id],
    ]);
  });

  it('reads the session whole again when the count says messages it holds are not all there are', async () => {
    const session = await storeSession(world);
    await storeTurn(world, session.id, { userMessage: 'q1', reply: 'a1' });
    await world.conversations.of(session.id);
    // As if another instance's turn had been counted while its rows were not yet visible.
    await world.dataSource.query('UPDATE chat_sessions SET message_count = message_count + 2 WHERE chat_id = ?', [session.id]);
    const since = jest.spyOn(MessagesRepository.prototype, 'since');

    expect(contents(await world.conversations.of(session.id))).toEqual(['q1', 'a1']);
    expect(since.mock.calls.map(([, afterId]) => afterId)).toEqual([expect.any(Number), 0]);
  });

  it('answers null for a session that is gone, and holds nothing of it', async () => {
    const session = await storeSession(world);
    await storeTurn(world, session.id);
    await world.conversations.of(session.id);
    await world.dataSource.query('DELETE FROM chat_sessions WHERE chat_id = ?', [session.id]);

    await expect(world.conversations.of(session.id)).resolves.toBeNull();
  });

  it("reads a short conversation's context as two columns, and keeps only long ones", async () => {
    const keepFromFour = new ConversationCache(world.repositories.messages, 4);
    const session = await storeSession(world);
    await storeTurn(world, session.id, { userMessage: 'q1', reply: 'a1' });
    const contextFor = jest.spyOn(MessagesRepository.prototype, 'contextFor');
    const since = jest.spyOn(MessagesRepository.prototype, 'since');

    const short = await keepFromFour.contextOf(session.id, 2);
    expect(short?.messages.map(({ role, content }) => ({ role, content }))).toEqual([
      { role: 'user', content: 'q1' },
      { role: 'model', content: 'a1' },
    ]);
    // What the last turn weighed (12 prompt + 34 reply tokens) and what it sent, read in the same statement.
    expect(short?.lastTurn).toEqual({ tokens: 46, context: { messages: 0, firstMessageId: null, truncated: false } });
    await storeTurn(world, session.id, { userMessage: 'q2', reply: 'a2' });
    expect(contents((await keepFromFour.contextOf(session.id, 4))?.messages ?? null)).toEqual(['q1', 'a1', 'q2', 'a2']);
    await storeTurn(world, session.id, { userMessage: 'q3', reply: 'a3' });
    const long = await keepFromFour.contextOf(session.id, 6);
    expect(contents(long?.messages ?? null)).toEqual(['q1', 'a1', 'q2', 'a2', 'q3', 'a3']);
    expect(long?.lastTurn).toEqual({ tokens: 46, context: { messages: 4, firstMessageId: long?.messages[0].id, truncated: false } });

    expect(contextFor).toHaveBeenCalledTimes(1);
    expect(since.mock.calls.map(([, afterId]) => afterId)).toEqual([0, expect.any(Number)]);
    expect(since.mock.calls[1][1]).toBeGreaterThan(0);
  });

  it('answers null for the context of a session that is gone, short or long', async () => {
    const session = await storeSession(world);
    await world.dataSource.query('DELETE FROM chat_sessions WHERE chat_id = ?', [session.id]);

    await expect(new ConversationCache(world.repositories.messages, 4).contextOf(session.id, 0)).resolves.toBeNull();
    await expect(world.conversations.contextOf(session.id, 40)).resolves.toBeNull();
  });
});
