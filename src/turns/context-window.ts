import { ContextTooLong } from '../common/errors.js';
import type { LlmTurn } from '../gemini/llm-client.js';
import type { ContextMessage, MessageAttachment, MessageContext, TurnHistory } from '../messages/message.js';
import type { Truncation } from '../sessions/session.js';

/** What a turn sends: which stored messages go with the new one, and what they weigh. */
export interface ContextPlan {
  /** The stored messages sent, oldest first, then the new user message (their text; files are added when sent). */
  contents: LlmTurn[];
  /** The files of each content, in the same order (empty where none). */
  attachments: (readonly MessageAttachment[])[];
  /** What the files sent weigh in tokens (ContextInput.weigh): counted in the prompt, never by their bytes. */
  mediaTokens: number;
  /** What the model is shown besides the new message (stored on the model message). */
  context: MessageContext;
  /** The prompt's tokens as Gemini counted them (countTokens); null when a bound showed it fits without counting. */
  promptTokens: number | null;
}

export interface ContextInput {
  history: TurnHistory;
  systemInstruction: string | null;
  message: string;
  /** The new message's files. */
  attachments: readonly MessageAttachment[];
  /** What files weigh in tokens, by Gemini's rules for the model (0 for none). */
  weigh: (attachments: readonly MessageAttachment[]) => number;
  /** The most prompt tokens this turn may take; null: no limit is known here. */
  limit: number | null;
  truncation: Truncation;
  /** Count even when a bound shows the prompt fits (the estimate reports an exact count). */
  exact?: boolean;
}

/** Counts the prompt tokens of a system instruction and contents, as Gemini would (countTokens). */
export type TokenCounter = (systemInstruction: string | null, contents: LlmTurn[]) => Promise<number>;

/**
 * Room left for what a tokenizer may add to each content (role markers): tokens are otherwise
 * never more than the UTF-8 bytes of the text they cover.
 */
const TOKENS_PER_CONTENT = 4;

function bound(text: string): number {
  return Buffer.byteLength(text, 'utf8') + TOKENS_PER_CONTENT;
}

/**
 * Which stored turns a prompt carries, and whether it fits the limit. Stored messages come in
 * whole turns (a user message and its reply), and only whole turns are left out, oldest first;
 * the system instruction and the new message are always sent. The stored history is never
 * changed: only what is sent.
 *
 * Sizes come from what Gemini already reported: the last turn's prompt tokens plus its reply's
 * are the context as it stood, so only what is new (and what the last turn left out) is bounded,
 * by its UTF-8 bytes. When that bound fits, nothing is counted; otherwise `count` (countTokens)
 * decides: `disabled` refuses only a prompt counted over the limit, and `auto` leaves out the
 * fewest oldest turns whose count fits — so no turn is ever refused, or left out, that would fit.
 */
export async function planContext(input: ContextInput, count: TokenCounter): Promise<ContextPlan> {
  const { history, systemInstruction, message, limit, truncation, weigh } = input;
  const messages = history.messages;
  const mediaFrom = (from: number): number => {
    let tokens = weigh(input.attachments);
    for (let i = from; i < messages.length; i++) if (messages[i].attachments.length > 0) tokens += weigh(messages[i].attachments);
    return tokens;
  };
  const planFrom = (from: number, promptTokens: number | null): ContextPlan => {
    const sent = messages.slice(from);
    return {
      contents: [...sent.map(({ role, content }) => ({ role, text: content })), { role: 'user', text: message }],
      attachments: [...sent.map((stored) => stored.attachments), input.attachments],
      mediaTokens: mediaFrom(from),
      context: { messages: messages.length - from, firstMessageId: messages[from]?.id ?? null, truncated: from > 0 },
      promptTokens,
    };
  };
  if (!input.exact && (limit === null || surelyFits(input, limit))) return planFrom(0, null);

  const counts = new Map<number, number>();
  const tokensFrom = async (turnsLeftOut: number): Promise<number> => {
    let tokens = counts.get(turnsLeftOut);
    if (tokens === undefined) {
      // countTokens counts the text; the files are weighed by Gemini's rules, which are what it counts.
      const planned = planFrom(2 * turnsLeftOut, null);
      tokens = (await count(systemInstruction, planned.contents)) + planned.mediaTokens;
      counts.set(turnsLeftOut, tokens);
    }
    return tokens;
  };
  const turns = Math.floor(messages.length / 2);
  const fits = async (turnsLeftOut: number) => (await tokensFrom(turnsLeftOut)) <= limit!;
  const plan = async (leftOut: number | null): Promise<ContextPlan> => {
    if (leftOut === null) throw new ContextTooLong(counts.get(turns)!, limit!, 'newest-alone');
    return planFrom(2 * leftOut, counts.get(leftOut)!);
  };

  // A conversation already past its limit: each turn adds to it, so this one leaves out at least
  // what the last one did. Counting from there spares a count of the whole history, which grows
  // without bound (and past what one request may carry). One count with a turn more than last
  // time confirms it — or, when it fits (the limit was raised, the instruction shortened), the
  // whole conversation is counted after all.
  const leftOutLastTime = truncation === 'auto' && limit !== null ? turnsLeftOutBy(history) : 0;
  if (leftOutLastTime > 0 && !(await fits(leftOutLastTime - 1))) {
    return plan(await fewestThatFit(turns, leftOutLastTime, fits, leftOutLastTime - 1));
  }

  const whole = await tokensFrom(0);
  if (limit === null || whole <= limit) return planFrom(0, whole);
  if (truncation === 'disabled') {
    // Leaving out turns would not help when the instruction and the message alone are too long.
    const alone = turns === 0 ? whole : await tokensFrom(turns);
    throw alone > limit ? new ContextTooLong(alone, limit, 'newest-alone') : new ContextTooLong(whole, limit, 'disabled');
  }
  return plan(await fewestThatFit(turns, guessTurnsToLeaveOut(messages, systemInstruction, message, whole, limit), fits));
}

/** How many whole turns the last turn left out of its context (0 when none, or not known). */
function turnsLeftOutBy({ messages, lastTurn }: TurnHistory): number {
  if (!lastTurn?.context?.truncated || messages.length < 2) return 0;
  // Before the last turn's own two messages, it sent `context.messages` of them: the newest.
  return Math.max(0, Math.floor((messages.length - 2 - lastTurn.context.messages) / 2));
}

/**
 * A bound on the whole prompt's tokens (system instruction, every stored message, the new one)
 * from what Gemini counted for the last turn — its context and reply — plus the UTF-8 bytes of
 * what that count did not cover: the messages it left out, the system instruction (it may have
 * changed since), the new message. Null when Gemini did not count the last turn. Only the
 * messages left out are measured: a long conversation that fits costs a pass over its ids.
 */
export function reportedBound({ history, systemInstruction, message, attachments, weigh }: BoundInput): number | null {
  const messages = history.messages;
  const last = history.lastTurn;
  if (!last || last.tokens === null || last.context === null || messages.length < 2) return null;
  // The last turn's own two messages are the last two; before them, it sent those from its first id on.
  const firstSent = last.context.messages === 0 ? null : last.context.firstMessageId;
  // The last reply was counted as output: room for what resending it as a content adds.
  let tokens = last.tokens + TOKENS_PER_CONTENT + freshBound(systemInstruction, message) + weigh(attachments);
  for (let i = 0; i < messages.length - 2; i++) {
    if (firstSent === null || messages[i].id < firstSent) tokens += storedBound(messages[i], weigh);
  }
  return tokens;
}

/** A bound on the whole prompt's tokens from the UTF-8 bytes of all of it. */
export function byteBound({ history, systemInstruction, message, attachments, weigh }: BoundInput): number {
  let tokens = freshBound(systemInstruction, message) + weigh(attachments);
  for (const stored of history.messages) tokens += storedBound(stored, weigh);
  return tokens;
}

type BoundInput = Pick<ContextInput, 'history' | 'systemInstruction' | 'message' | 'attachments' | 'weigh'>;

function storedBound(stored: ContextMessage, weigh: ContextInput['weigh']): number {
  return bound(stored.content) + (stored.attachments.length === 0 ? 0 : weigh(stored.attachments));
}

function freshBound(systemInstruction: string | null, message: string): number {
  return (systemInstruction === null ? 0 : bound(systemInstruction)) + bound(message);
}

/** Whether a bound shows, with no call, that the whole prompt fits. */
function surelyFits(input: ContextInput, limit: number): boolean {
  const reported = reportedBound(input);
  return (reported !== null && reported <= limit) || byteBound(input) <= limit;
}

/**
 * A first guess of how many oldest turns to leave out: each turn weighed in proportion to its
 * characters, at the rate of the whole prompt's count. countTokens then settles it.
 */
function guessTurnsToLeaveOut(
  messages: readonly ContextMessage[],
  systemInstruction: string | null,
  message: string,
  tokens: number,
  limit: number,
): number {
  let chars = (systemInstruction?.length ?? 0) + message.length;
  for (const stored of messages) chars += stored.content.length;
  const perChar = tokens / Math.max(1, chars);
  let over = tokens - limit;
  let turns = 0;
  while (over > 0 && 2 * turns + 1 < messages.length) {
    over -= (messages[2 * turns].content.length + messages[2 * turns + 1].content.length) * perChar;
    turns += 1;
  }
  return turns;
}

/**
 * The fewest oldest turns (`tooFew` + 1 … `turns`) to leave out for the rest to fit, or null when
 * even all of them are not enough. `fits` is monotonic (leaving out more never makes a prompt
 * longer) and known false for `tooFew` (0: the whole conversation). The guess is tried first,
 * then its neighbour: a close guess costs two counts.
 */
export async function fewestThatFit(
  turns: number,
  guess: number,
  fits: (turnsLeftOut: number) => Promise<boolean>,
  tooFew = 0,
): Promise<number | null> {
  if (turns <= tooFew) return null;
  let enough = turns + 1; // known to fit; turns + 1: not known yet
  const probe = async (n: number) => {
    if (await fits(n)) enough = n;
    else tooFew = n;
  };
  await probe(Math.min(turns, Math.max(tooFew + 1, guess)));
  if (enough <= turns) {
    if (enough - 1 > tooFew) await probe(enough - 1);
  } else if (tooFew < turns) {
    await probe(tooFew + 1);
  }
  while (enough - tooFew > 1) await probe(Math.floor((tooFew + enough) / 2));
  return enough <= turns ? enough : null;
}
