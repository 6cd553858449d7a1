import type { DataSource } from 'typeorm';
import type { INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { ModelCatalog } from '../../src/models/model-catalog.js';
import { pricesAt } from '../../src/models/model-table.js';
import { priceOf } from '../../src/pricing/price.js';
import { countsToUsage, MEDIA_MODALITIES, MODALITY_SHARES } from '../../src/core/token-usage.js';
import type { TokenUsage } from '../../src/core/token-usage.js';

export interface CostMismatch {
  /** `chat_history` for a model message, `spend_ledger` for a line of the ledger. */
  table: 'chat_history' | 'spend_ledger';
  id: number;
  model: string;
  stored: number | null;
  recomputed: number | null;
  /** Set when the row's media shares of this count add up past the count: its split by modality would not be what was stored. */
  split?: 'prompt' | 'cached';
}

/** What the media shares of a count add up to; the service stores them as shares, never past their count. */
function sharesOf(usage: TokenUsage, of: 'prompt' | 'cached'): number {
  return MEDIA_MODALITIES.reduce((sum, modality) => sum + usage[MODALITY_SHARES[of][modality]], 0);
}

/**
 * Recomputes the cost of every model message the service stored and of every line of the spend
 * ledger — those of refused calls, which have no message, included — from its stored token
 * counts, the table entry it says it was priced as (`priced_as`), and the rates in force when it
 * was answered. (Rows a spec inserted by hand carry no cost status, rows whose usage Gemini did
 * not report as valid counts carry no counts: both are skipped.) A row priced as another model
 * than the one that answered must say `estimated`; one priced as its own model says `priced`, or
 * `estimated` when its count was never final (a stream that broke); an unpriced one has no
 * `priced_as`. The counts read are every token class's column (the media shares — audio, image,
 * video, document — included: audio is priced at its own rates, the others at the input rates),
 * and each row's media shares must fit in the count they split.
 */
export async function storedCostMismatches(app: INestApplication): Promise<{ checked: number; mismatches: CostMismatch[] }> {
  const dataSource = app.get<DataSource>(getDataSourceToken());
  const models = app.get(ModelCatalog);
  const messages: Record<string, unknown>[] = await dataSource.query(
    `SELECT m.*, m.timestamp AS at FROM chat_history m WHERE m.role = 'model' AND m.cost_status IS NOT NULL AND m.total_tokens IS NOT NULL ORDER BY m.id`,
  );
  const lines: Record<string, unknown>[] = await dataSource.query(`SELECT l.*, l.created_at AS at FROM spend_ledger l ORDER BY l.id`);
  const check =
    (table: CostMismatch['table']) =>
    (row: Record<string, unknown>): CostMismatch[] => {
      const usage = countsToUsage(row);
      const pricedAs = (row.priced_as as string | null) ?? null;
      const entry = pricedAs === null ? undefined : models.find(pricedAs);
      const recomputed = entry ? priceOf(pricesAt(entry, new Date(String(row.at))), usage) : null;
      const stored = row.cost_nano_usd === null ? null : Number(row.cost_nano_usd);
      // Priced as the answering model itself (a -001 version: its family), or else an estimate.
      const own = pricedAs !== null && models.find(String(row.model))?.model === pricedAs;
      const statuses = pricedAs === null ? ['unpriced'] : own ? ['priced', 'estimated'] : ['estimated'];
      const mismatch = { table, id: Number(row.id), model: String(row.model), stored, recomputed };
      if (sharesOf(usage, 'prompt') > usage.promptTokens) return [{ ...mismatch, split: 'prompt' as const }];
      if (sharesOf(usage, 'cached') > usage.cachedTokens) return [{ ...mismatch, split: 'cached' as const }];
      return stored === recomputed && statuses.includes(String(row.cost_status)) ? [] : [mismatch];
    };
  const mismatches = [...messages.flatMap(check('chat_history')), ...lines.flatMap(check('spend_ledger'))];
  return { checked: messages.length + lines.length, mismatches };
}
