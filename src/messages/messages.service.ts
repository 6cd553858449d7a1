import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, MoreThan, Repository } from 'typeorm';
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

export interface UsageTotals {
  turns: number;
  unpricedTurns: number;
  promptTokens: number;
  cachedTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
  totalTokens: number;
  costNanoUsd: number;
}

export interface UsageReport {
  total: UsageTotals;
  byModel: (UsageTotals & { model: string })[];
  byDay: (UsageTotals & { day: string })[];
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

  /** Messages after `afterId`, in order; keyset paging on `id`. */
  page(chatId: string, limit: number, afterId: number | null): Promise<ChatMessageEntity[]> {
    return this.messages.find({
      where: afterId === null ? { chatId } : { chatId, id: MoreThan(afterId) },
      order: { id: 'ASC' },
      take: limit,
    });
  }

  async deleteForSessions(chatIds: string[], manager: EntityManager): Promise<void> {
    if (chatIds.length === 0) return;
    await manager.getRepository(ChatMessageEntity).delete({ chatId: In(chatIds) });
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

  /**
   * What a user's turns used and cost in [from, to): one model row is one turn. Sums are done
   * in SQL over integers; days are UTC (timestamps are stored as ISO-8601 UTC text).
   */
  async usageReport(userId: string, from: Date | null, to: Date | null): Promise<UsageReport> {
    const grouped = async (groupBy: string | null) => {
      const query = this.messages
        .createQueryBuilder('m')
        .innerJoin('chat_sessions', 's', 's.chat_id = m.chat_id')
        .select('COUNT(*)', 'turns')
        .addSelect("SUM(CASE WHEN m.cost_status = 'unpriced' THEN 1 ELSE 0 END)", 'unpriced_turns')
        .addSelect('COALESCE(SUM(m.prompt_tokens), 0)', 'prompt_tokens')
        .addSelect('COALESCE(SUM(m.cached_tokens), 0)', 'cached_tokens')
        .addSelect('COALESCE(SUM(m.output_tokens), 0)', 'output_tokens')
        .addSelect('COALESCE(SUM(m.thoughts_tokens), 0)', 'thoughts_tokens')
        .addSelect('COALESCE(SUM(m.total_tokens), 0)', 'total_tokens')
        .addSelect('COALESCE(SUM(m.cost_nano_usd), 0)', 'cost_nano_usd')
        .where('s.user_id = :userId', { userId })
        .andWhere("m.role = 'model'");
      if (from) query.andWhere('m.timestamp >= :from', { from: from.toISOString() });
      if (to) query.andWhere('m.timestamp < :to', { to: to.toISOString() });
      if (groupBy) query.addSelect(groupBy, 'key').groupBy(groupBy).orderBy(groupBy, 'ASC');
      const rows = await query.getRawMany<Record<string, string | number | null>>();
      return rows.map((row) => ({
        key: String(row.key),
        totals: {
          turns: Number(row.turns),
          unpricedTurns: Number(row.unpriced_turns ?? 0),
          promptTokens: Number(row.prompt_tokens),
          cachedTokens: Number(row.cached_tokens),
          outputTokens: Number(row.output_tokens),
          thoughtsTokens: Number(row.thoughts_tokens),
          totalTokens: Number(row.total_tokens),
          costNanoUsd: Number(row.cost_nano_usd),
        },
      }));
    };
    const [[total], byModel, byDay] = await Promise.all([
      grouped(null),
      grouped('m.model'),
      grouped('SUBSTR(m.timestamp, 1, 10)'),
    ]);
    return {
      total: total.totals,
      byModel: byModel.map(({ key, totals }) => ({ model: key, ...totals })),
      byDay: byDay.map(({ key, totals }) => ({ day: key, ...totals })),
    };
  }

  /** What the user's turns since `since` cost, in integer nano-dollars. */
  async spentSince(userId: string, since: Date): Promise<number> {
    const row = await this.messages
      .createQueryBuilder('m')
      .innerJoin('chat_sessions', 's', 's.chat_id = m.chat_id')
      .select('COALESCE(SUM(m.cost_nano_usd), 0)', 'spent')
      .where('s.user_id = :userId', { userId })
      .andWhere('m.timestamp >= :since', { since: since.toISOString() })
      .getRawOne<{ spent: string | number }>();
    return Number(row?.spent ?? 0);
  }

  async statsForOne(chatId: string): Promise<SessionStats> {
    return (await this.statsFor([chatId])).get(chatId)!;
  }
}
