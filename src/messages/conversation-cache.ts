import { weightOf } from './message.js';
import type { Message, TurnHistory } from './message.js';
import type { MessagesRepository } from './messages.repository.js';

/** Memory the cached conversations may take, roughly (UTF-16 text plus a per-message allowance). */
const CACHE_BYTES = 64 * 1024 * 1024;
const BYTES_PER_MESSAGE = 256;
/** A file a message carried: its description, never its bytes. */
const BYTES_PER_ATTACHMENT = 512;
/** Shorter conversations are read whole each time: that costs little, and keeps memory for the long ones. */
const LONG_CONVERSATION = 32;

interface Cached {
  messages: readonly Message[];
  bytes: number;
}

/**
 * The conversations of the sessions in use, kept in memory so that a turn's context and a
 * history read fetch only the messages stored since — a turn on a long session costs what a
 * turn on a short one does. Right with any number of instances sharing the database: a stored
 * message never changes, and every read takes the new rows together with the session's
 * `message_count`, in one statement; when the cached and the new messages are not all of them
 * (another writer's rows not yet visible, a count off in old data), the session is read whole.
 * Only long conversations are kept (LONG_CONVERSATION messages or more); the least recently used
 * go first past CACHE_BYTES.
 */
export class ConversationCache {
  private readonly cache = new Map<string, Cached>();
  private bytes = 0;

  constructor(
    private readonly messages: MessagesRepository,
    private readonly keepFrom: number = LONG_CONVERSATION,
  ) {}

  /** The whole stored conversation in history order; null when there is no such session (any more). */
  async of(sessionId: string): Promise<readonly Message[] | null> {
    const cached = this.cache.get(sessionId);
    const afterId = cached?.messages.at(-1)?.id ?? 0;
    const read = await this.messages.since(sessionId, afterId);
    if (!read) {
      this.forget(sessionId);
      return null;
    }
    let all: readonly Message[];
    let bytes: number;
    if (cached && cached.messages.length + read.messages.length === read.messageCount) {
      all = read.messages.length === 0 ? cached.messages : cached.messages.concat(read.messages);
      bytes = cached.bytes + sizeOf(read.messages);
    } else {
      all = cached ? ((await this.messages.since(sessionId, 0))?.messages ?? []) : read.messages;
      bytes = sizeOf(all);
    }
    this.remember(sessionId, all, bytes);
    return all;
  }

  /**
   * What a turn's context needs. A conversation too short to be kept is read as two columns
   * (`messageCount` is the session's, read with it); a long one goes through the cache.
   */
  async contextOf(sessionId: string, messageCount: number): Promise<TurnHistory | null> {
    if (messageCount < this.keepFrom && !this.cache.has(sessionId)) return this.messages.contextFor(sessionId);
    const messages = await this.of(sessionId);
    if (!messages) return null;
    const last = messages.at(-1);
    return { messages, lastTurn: last ? weightOf(last) : null };
  }

  /** Drops a session's conversation (it was deleted). */
  forget(sessionId: string): void {
    const cached = this.cache.get(sessionId);
    if (!cached) return;
    this.cache.delete(sessionId);
    this.bytes -= cached.bytes;
  }

  private remember(sessionId: string, messages: readonly Message[], bytes: number): void {
    this.forget(sessionId);
    if (messages.length < this.keepFrom) return;
    if (bytes > CACHE_BYTES / 4) return; // one conversation never takes most of the cache
    this.cache.set(sessionId, { messages, bytes });
    this.bytes += bytes;
    // A Map iterates in insertion order: the first entries are the least recently used.
    for (const [oldest] of this.cache) {
      if (this.bytes <= CACHE_BYTES) break;
      this.forget(oldest);
    }
  }
}

function sizeOf(messages: readonly Message[]): number {
  let bytes = 0;
  for (const message of messages)
    bytes += BYTES_PER_MESSAGE + 2 * message.content.length + BYTES_PER_ATTACHMENT * message.attachments.length;
  return bytes;
}
