import type { DataSource } from 'typeorm';
import type { INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { ModelCatalog } from '../../src/models/model-catalog.js';
import { pricesAt } from '../../src/models/model-table.js';
import { priceOf } from '../../src/pricing/price.js';
import { countsToUsage } from '../../src/core/token-usage.js';

export interface CostMismatch {
  id: number;
  model: string;
  stored: number | null;
  recomputed: number | null;
}

/**
 * Recomputes the cost of every model row the service stored (rows a spec inserted by hand carry
 * no cost status, rows whose usage Gemini did not report as valid counts carry no counts: both
 * are skipped) from its stored token counts, the table entry it says it was priced as
 * (`priced_as`), and the rates in force when it was answered. A row priced as another model than
 * the one that answered must say `estimated`; an unpriced one has no `priced_as`.
 */
export async function storedCostMismatches(app: INestApplication): Promise<{ checked: number; mismatches: CostMismatch[] }> {
  const dataSource = app.get<DataSource>(getDataSourceToken());
  const models = app.get(ModelCatalog);
  const rows: Record<string, unknown>[] = await dataSource.query(
    `SELECT m.* FROM chat_history m WHERE m.role = 'model' AND m.cost_status IS NOT NULL AND m.total_tokens IS NOT NULL ORDER BY m.id`,
  );
  const mismatches = rows.flatMap((row): CostMismatch[] => {
    const usage = countsToUsage(row);
    const pricedAs = (row.priced_as as string | null) ?? null;
    const entry = pricedAs === null ? undefined : models.find(pricedAs);
    const recomputed = entry ? priceOf(pricesAt(entry, new Date(String(row.timestamp))), usage) : null;
    const stored = row.cost_nano_usd === null ? null : Number(row.cost_nano_usd);
    // Priced as the answering model itself (a -001 version: its family), or else an estimate.
    const expectedStatus = pricedAs === null ? 'unpriced' : models.find(String(row.model))?.model === pricedAs ? 'priced' : 'estimated';
    return stored === recomputed && row.cost_status === expectedStatus
      ? []
      : [{ id: Number(row.id), model: String(row.model), stored, recomputed }];
  });
  return { checked: rows.length, mismatches };
}
