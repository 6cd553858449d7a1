import { MoreThan } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { TOKEN_CLASSES } from '../pricing/token-usage.js';
import type { TokenUsage } from '../pricing/token-usage.js';
import { ChatMessageEntity } from './chat-message.entity.js';
import type { ContextMessage, Message, NewTurn } from './message.js';

export class MessagesRepository {
  constructor(private readonly manager: EntityManager) {}

  private get messages() {
    return this.manager.getRepository(ChatMessageEntity);
  }

  /** The stored conversation in `id` order, as the next turn's context needs it. */
  contextFor(sessionId: string): Promise<ContextMessage[]> {
    return this.messages.find({ select: { role: true, content: true }, where: { sessionId }, order: { id: 'ASC' } });
  }

  async listForSession(sessionId: string): Promise<Message[]> {
    const rows = await this.messages.find({ where: { sessionId }, order: { id: 'ASC' } });
    return rows.map(toMessage);
  }

  /** Messages after `afterId`, in order; keyset paging on `id`. */
  async page(sessionId: string, limit: number, afterId: number | null): Promise<Message[]> {
    const rows = await this.messages.find({
      where: afterId === null ? { sessionId } : { sessionId, id: MoreThan(afterId) },
      order: { id: 'ASC' },
      take: limit,
    });
    return rows.map(toMessage);
  }

  /** Both rows of a turn, user row first (history order is by id). */
  async appendTurn(turn: NewTurn): Promise<[Message, Message]> {
    const userRow = await this.messages.save(
      this.messages.create({
        sessionId: turn.sessionId,
        createdAt: turn.receivedAt,
        role: 'user',
        content: turn.userMessage,
        ...noUsage(),
      }),
    );
    const modelRow = await this.messages.save(
      this.messages.create({
        sessionId: turn.sessionId,
        createdAt: turn.answeredAt,
        role: 'model',
        content: turn.reply,
        model: turn.model,
        ...(turn.usage ?? NO_TOKENS),
        costNanoUsd: turn.costNanoUsd,
        costStatus: turn.costStatus,
        finishReason: turn.finishReason,
        latencyMs: turn.latencyMs,
      }),
    );
    return [toMessage(userRow), toMessage(modelRow)];
  }
}

const NO_TOKENS = Object.freeze(Object.fromEntries(TOKEN_CLASSES.map(({ key }) => [key, null])));

function noUsage(): Partial<ChatMessageEntity> {
  return {
    model: null,
    ...NO_TOKENS,
    costNanoUsd: null,
    costStatus: null,
    finishReason: null,
    latencyMs: null,
  };
}

function toMessage(row: ChatMessageEntity): Message {
  const isModel = row.role === 'model';
  return {
    id: row.id,
    sessionId: row.sessionId,
    role: row.role,
    content: row.content,
    createdAt: row.createdAt,
    model: row.model,
    finishReason: row.finishReason,
    usage: isModel ? (Object.fromEntries(TOKEN_CLASSES.map(({ key }) => [key, row[key] ?? 0])) as TokenUsage) : null,
    costNanoUsd: row.costNanoUsd,
    costStatus: isModel ? (row.costStatus ?? 'unpriced') : null,
    latencyMs: row.latencyMs,
  };
}
