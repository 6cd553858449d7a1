import { ContextTooLong } from '../common/errors.js';
import type { LlmTurn } from '../gemini/llm-client.js';
import type { ContextMessage, MessageAttachment, TurnHistory } from '../messages/message.js';
import { byteBound, fewestThatFit, planContext, reportedBound } from './context-window.js';
import type { ContextInput } from './context-window.js';

/** A tokenizer as the emulator's: a token per four characters, at least one per content. */
function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** countTokens, counted by `tokens` and recorded, so a spec sees how often it was asked. */
function counter() {
  const calls: number[] = [];
  const count = async (systemInstruction: string | null, contents: LlmTurn[]) => {
    calls.push(contents.length);
    return (systemInstruction === null ? 0 : tokens(systemInstruction)) + contents.reduce((sum, turn) => sum + tokens(turn.text), 0);
  };
  return { count, calls };
}

/** `turns` stored turns of `chars` characters per message, ids from 1, as each turn that fit stored them. */
function historyOf(turns: number, chars = 400): TurnHistory {
  const messages: ContextMessage[] = [];
  for (let i = 0; i < turns; i++) {
    messages.push({ id: 2 * i + 1, role: 'user', content: `${i}`.padEnd(chars, 'q'), attachments: [] });
    messages.push({ id: 2 * i + 2, role: 'model', content: `${i}`.padEnd(chars, 'a'), attachments: [] });
  }
  if (turns === 0) return { messages, lastTurn: null };
  // The last turn's prompt (everything before its reply) and its reply, as Gemini counted them.
  const prompt = messages.slice(0, -1).reduce((sum, message) => sum + tokens(message.content), 0);
  return {
    messages,
    lastTurn: {
      tokens: prompt + tokens(messages.at(-1)!.content),
      context: { messages: messages.length - 2, firstMessageId: turns > 1 ? 1 : null, truncated: false },
    },
  };
}

const NO_FILES = { attachments: [], weigh: () => 0 };

function input(overrides: Partial<ContextInput>): ContextInput {
  return {
    history: historyOf(10),
    systemInstruction: null,
    message: 'next question',
    ...NO_FILES,
    limit: 1_000_000,
    truncation: 'auto',
    ...overrides,
  };
}

describe('planContext', () => {
  it('sends the whole history, uncounted, when a bound shows it fits', async () => {
    const { count, calls } = counter();
    const plan = await planContext(input({ limit: 10_000 }), count);
    expect(plan.contents).toHaveLength(21);
    expect(plan.contents.at(-1)).toEqual({ role: 'user', text: 'next question' });
    expect(plan.context).toEqual({ messages: 20, firstMessageId: 1, truncated: false });
    expect(plan.promptTokens).toBeNull();
    expect(calls).toEqual([]);
  });

  it('counts when the bound does not settle it, and sends everything that fits', async () => {
    const { count, calls } = counter();
    // 20 messages of 100 tokens + 4: 2,004 tokens, but 8,000+ bytes.
    const plan = await planContext(input({ limit: 2_004 }), count);
    expect(plan.context).toEqual({ messages: 20, firstMessageId: 1, truncated: false });
    expect(plan.promptTokens).toBe(2_004);
    expect(calls).toEqual([21]);
  });

  it('leaves out the fewest oldest whole turns that make it fit, newest last', async () => {
    const { count } = counter();
    // 2,004 tokens; a limit of 1,700 needs 2 turns (400 tokens) left out, 1 (200) is not enough.
    const plan = await planContext(input({ limit: 1_700 }), count);
    expect(plan.context).toEqual({ messages: 16, firstMessageId: 5, truncated: true });
    expect(plan.contents[0]).toEqual({ role: 'user', text: '2'.padEnd(400, 'q') });
    expect(plan.contents.at(-1)).toEqual({ role: 'user', text: 'next question' });
    expect(plan.promptTokens).toBe(1_604);
  });

  it('keeps the system instruction and counts it', async () => {
    const { count } = counter();
    const plan = await planContext(input({ limit: 1_700, systemInstruction: 'x'.repeat(400) }), count);
    // 100 more tokens: one more turn goes.
    expect(plan.context).toEqual({ messages: 14, firstMessageId: 7, truncated: true });
    expect(plan.promptTokens).toBe(1_504);
  });

  it('refuses a prompt counted over the limit when truncation is disabled', async () => {
    const { count } = counter();
    const refusal = planContext(input({ limit: 1_700, truncation: 'disabled' }), count);
    await expect(refusal).rejects.toBeInstanceOf(ContextTooLong);
    await expect(refusal).rejects.toMatchObject({ promptTokens: 2_004, limit: 1_700, reason: 'disabled' });
  });

  it('never refuses a prompt that fits, however big its bytes', async () => {
    const { count } = counter();
    const plan = await planContext(input({ limit: 2_004, truncation: 'disabled' }), count);
    expect(plan.context.truncated).toBe(false);
  });

  it('says that the instruction and the message alone are too long, when truncation is disabled too', async () => {
    const { count } = counter();
    const refusal = planContext(input({ limit: 50, truncation: 'disabled', systemInstruction: 'x'.repeat(400) }), count);
    await expect(refusal).rejects.toMatchObject({ promptTokens: 104, limit: 50, reason: 'newest-alone' });
  });

  describe('in a conversation already past its limit', () => {
    /** As historyOf, the last turn having left out its `leftOut` oldest turns. */
    function truncatedHistory(turns: number, leftOut: number): TurnHistory {
      const history = historyOf(turns);
      const sent = history.messages.slice(2 * leftOut, -2);
      const tokensSent = sent.reduce((sum, message) => sum + tokens(message.content), 0) + 100 + 100;
      return {
        ...history,
        lastTurn: { tokens: tokensSent, context: { messages: sent.length, firstMessageId: sent[0]?.id ?? null, truncated: true } },
      };
    }

    it('counts from where the last turn started, never the whole conversation, and still leaves out the fewest', async () => {
      const { count, calls } = counter();
      // 30 turns of 200 tokens; 1,000 tokens hold 4 earlier turns (804): 26 left out, 25 last time.
      const plan = await planContext(input({ history: truncatedHistory(30, 25), limit: 1_000 }), count);
      expect(plan.context).toMatchObject({ messages: 8, truncated: true });
      expect(plan.promptTokens).toBe(804);
      expect(Math.max(...calls)).toBeLessThan(61);
      // One turn more than last time (24 left out), as many as last time (25), one fewer turn (26).
      expect(calls).toEqual([13, 11, 9]);
    });

    it('counts the whole conversation after all when one turn more than last time fits (the limit was raised)', async () => {
      const { count, calls } = counter();
      const plan = await planContext(input({ history: truncatedHistory(30, 25), limit: 6_004 }), count);
      expect(plan.context).toEqual({ messages: 60, firstMessageId: 1, truncated: false });
      expect(calls).toContain(61);
    });
  });

  it('refuses, even with truncation, when the system instruction and the message alone are over the limit', async () => {
    const { count } = counter();
    const refusal = planContext(input({ limit: 50, systemInstruction: 'x'.repeat(400) }), count);
    await expect(refusal).rejects.toMatchObject({ promptTokens: 104, limit: 50, reason: 'newest-alone' });
  });

  it('counts exactly when asked, even when a bound would do', async () => {
    const { count, calls } = counter();
    const plan = await planContext(input({ exact: true }), count);
    expect(plan.promptTokens).toBe(2_004);
    expect(calls).toEqual([21]);
  });

  it('sends everything, uncounted, when no limit is known', async () => {
    const { count, calls } = counter();
    const plan = await planContext(input({ limit: null }), count);
    expect(plan.context.truncated).toBe(false);
    expect(calls).toEqual([]);
  });

  it('sends only the new message for a session without history', async () => {
    const { count } = counter();
    const plan = await planContext(input({ history: historyOf(0), limit: 10 }), count);
    expect(plan.contents).toEqual([{ role: 'user', text: 'next question' }]);
    expect(plan.context).toEqual({ messages: 0, firstMessageId: null, truncated: false });
  });

  it('weighs files by what they weigh in tokens, not their bytes: a turn whose file does not fit is left out whole', async () => {
    const { count, calls } = counter();
    const history = historyOf(10);
    const image = {
      fileId: 'file_1',
      name: 'chart.png',
      mimeType: 'image/png',
      modality: 'image' as const,
      bytes: 5_000_000,
    } as MessageAttachment;
    // The oldest turn carried a file weighing 3,000 tokens (its 5 MB play no part).
    // The last turn sent it too: Gemini's count of that turn includes its weight.
    const withFile: TurnHistory = {
      messages: history.messages.map((m, i) => (i === 0 ? { ...m, attachments: [image] } : m)),
      lastTurn: { ...history.lastTurn!, tokens: history.lastTurn!.tokens! + 3_000 },
    };
    const weigh = (files: readonly MessageAttachment[]) => files.length * 3_000;
    const plan = await planContext(input({ history: withFile, weigh, limit: 3_000 }), count);
    expect(plan.context).toEqual({ messages: 18, firstMessageId: 3, truncated: true });
    expect(plan.attachments.every((files) => files.length === 0)).toBe(true);
    expect(plan.mediaTokens).toBe(0);
    expect(plan.promptTokens).toBeLessThanOrEqual(3_000);
    // The whole conversation (2,004 tokens of text and 3,000 of file) was counted first.
    expect(calls[0]).toBe(21);
    // Files go with their turn, and the new message's with it.
    const kept = await planContext(input({ history: withFile, weigh, attachments: [image], limit: 1_000_000 }), count);
    expect(kept.attachments[0]).toEqual([image]);
    expect(kept.attachments.at(-1)).toEqual([image]);
    expect(kept.mediaTokens).toBe(6_000);
  });

  it('stays close to the limit turn after turn: each counted prompt fits, and one more turn would not', async () => {
    const { count } = counter();
    for (let turns = 1; turns <= 30; turns++) {
      const plan = await planContext(input({ history: historyOf(turns, 300), limit: 2_000 }), count);
      const sent = await count(null, plan.contents);
      expect(sent).toBeLessThanOrEqual(2_000);
      if (plan.context.truncated) {
        const firstSent = turns - plan.context.messages / 2;
        const oneMore = await count(null, [
          ...historyOf(turns, 300)
            .messages.slice(2 * (firstSent - 1))
            .map(({ role, content }) => ({ role, text: content })),
          { role: 'user' as const, text: 'next question' },
        ]);
        expect(oneMore).toBeGreaterThan(2_000);
      }
    }
  });
});

describe('reportedBound', () => {
  it('is the last turn as Gemini counted it plus the bytes of what is new', () => {
    const history = historyOf(10);
    // 2,000 tokens counted for the last turn and its reply, 4 of room for resending the reply, the new message's 13 bytes and 4 of room.
    expect(reportedBound({ history, systemInstruction: null, message: 'next question', ...NO_FILES })).toBe(2_000 + 4 + 13 + 4);
  });

  it('adds the bytes of the messages the last turn left out', () => {
    const history = historyOf(10);
    const truncated: TurnHistory = {
      ...history,
      lastTurn: { tokens: 1_000, context: { messages: 8, firstMessageId: 11, truncated: true } },
    };
    // Messages 1–10 (400 bytes + 4 each) were left out.
    expect(reportedBound({ history: truncated, systemInstruction: null, message: 'next question', ...NO_FILES })).toBe(
      1_000 + 4 + 10 * 404 + 17,
    );
  });

  it('is null when Gemini did not count the last turn', () => {
    const history: TurnHistory = { ...historyOf(2), lastTurn: { tokens: null, context: null } };
    expect(reportedBound({ history, systemInstruction: 'be brief', message: 'hi', ...NO_FILES })).toBeNull();
  });
});

describe('byteBound', () => {
  it('is the bytes of everything, with room for what a tokenizer adds per content', () => {
    expect(byteBound({ history: historyOf(2), systemInstruction: 'be brief', message: 'hi', ...NO_FILES })).toBe(
      4 * 404 + (8 + 4) + (2 + 4),
    );
    expect(byteBound({ history: historyOf(0), systemInstruction: null, message: 'é', ...NO_FILES })).toBe(2 + 4);
  });
});

describe('fewestThatFit', () => {
  it.each([
    [10, 3, 3],
    [10, 7, 3],
    [10, 1, 3],
    [10, 10, 3],
    [1, 1, 1],
  ])('finds the fewest of %i turns from a guess of %i (answer %i)', async (turns, guess, answer) => {
    const probed: number[] = [];
    const found = await fewestThatFit(turns, guess, async (n) => {
      probed.push(n);
      return n >= answer;
    });
    expect(found).toBe(answer);
    expect(probed.length).toBeLessThanOrEqual(2 + Math.ceil(Math.log2(turns + 1)));
  });

  it('costs two probes when the guess is right', async () => {
    const probed: number[] = [];
    await fewestThatFit(100, 40, async (n) => (probed.push(n), n >= 40));
    expect(probed).toEqual([40, 39]);
  });

  it('answers null when leaving out every turn is not enough', async () => {
    await expect(fewestThatFit(5, 2, async () => false)).resolves.toBeNull();
  });

  it('starts above a count known too few, and never probes it again', async () => {
    const probed: number[] = [];
    await expect(fewestThatFit(30, 25, async (n) => (probed.push(n), n >= 26), 24)).resolves.toBe(26);
    expect(probed).toEqual([25, 26]);
  });
});
