import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { EntityManager } from 'typeorm';
import type { CostStatus } from '../pricing/pricing.service.js';
import type { TokenUsage } from '../pricing/token-usage.js';
import { ChatMessageEntity } from './chat-message.entity.js';

export interface SessionStats {
  messageCount: number;
  totalTokens: number;
  /** Sum of the priced turns, in integer nano-dollars. */
  totalCostNanoUsd: number;
}

export interface NewTurn {
  chatId: string;
  userMessage: string;
  receivedAt: Date;
  reply: string;
  answeredAt: Date;
  model: string;
  usage: TokenUsage;
  costNanoUsd: number | null;
  costStatus: CostStatus;
  finishReason: string | null;
  latencyMs: number;
}

@Injectable()
export class MessagesService {
  constructor(@InjectRepository(ChatMessageEntity) private readonly messages: Repository<ChatMessageEntity>) {}

  /** The stored conversation in `id` order: the context of the next turn. */
  listForSession(chatId: string): Promise<ChatMessageEntity[]> {
    return this.messages.find({ where: { chatId }, order: { id: 'ASC' } });
  }

  /** Both rows of a turn, inside the caller's transaction, user row first. */
  async appendTurn(manager: EntityManager, turn: NewTurn): Promise<[ChatMessageEntity, ChatMessageEntity]> {
    const repository = manager.getRepository(ChatMessageEntity);
    const userRow = await repository.save(
      repository.create({
        chatId: turn.chatId,
        timestamp: turn.receivedAt,
        role: 'user',
        content: turn.userMessage,
        model: null,
        promptTokens: null,
        cachedTokens: null,
        outputTokens: null,
        thoughtsTokens: null,
        toolPromptTokens: null,
        totalTokens: null,
        costNanoUsd: null,
        costStatus: null,
        finishReason: null,
        latencyMs: null,
      }),
    );
    const modelRow = await repository.save(
      repository.create({
        chatId: turn.chatId,
        timestamp: turn.answeredAt,
        role: 'model',
        content: turn.reply,
        model: turn.model,
        promptTokens: turn.usage.promptTokens,
        cachedTokens: turn.usage.cachedTokens,
        outputTokens: turn.usage.outputTokens,
        thoughtsTokens: turn.usage.thoughtsTokens,
        toolPromptTokens: turn.usage.toolPromptTokens,
        totalTokens: turn.usage.totalTokens,
        costNanoUsd: turn.costNanoUsd,
        costStatus: turn.costStatus,
        finishReason: turn.finishReason,
        latencyMs: turn.latencyMs,
      }),
    );
    return [userRow, modelRow];
  }

  async statsFor(chatIds: string[]): Promise<Map<string, SessionStats>> {
    const stats = new Map<string, SessionStats>(
      chatIds.map((id) => [id, { messageCount: 0, totalTokens: 0, totalCostNanoUsd: 0 }]),
    );
    if (chatIds.length === 0) return stats;
    const rows = await this.messages
      .createQueryBuilder('m')
      .select('m.chat_id', 'chat_id')
      .addSelect('COUNT(*)', 'message_count')
      .addSelect('COALESCE(SUM(m.total_tokens), 0)', 'total_tokens')
      .addSelect('COALESCE(SUM(m.cost_nano_usd), 0)', 'total_cost')
      .where('m.chat_id IN (:...chatIds)', { chatIds })
      .groupBy('m.chat_id')
      .getRawMany<{ chat_id: string; message_count: string | number; total_tokens: string | number; total_cost: string | number }>();
    for (const row of rows) {
      // Integer sums in SQL: PostgreSQL returns them as strings, SQLite as numbers.
      stats.set(row.chat_id, {
        messageCount: Number(row.message_count),
        totalTokens: Number(row.total_tokens),
        totalCostNanoUsd: Number(row.total_cost),
      });
    }
    return stats;
  }

  async statsForOne(chatId: string): Promise<SessionStats> {
    return (await this.statsFor([chatId])).get(chatId)!;
  }
}
