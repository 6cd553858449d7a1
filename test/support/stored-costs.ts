import type { DataSource } from 'typeorm';
import { PricingService } from '../../src/pricing/pricing.service.js';
import { countsToUsage } from '../../src/pricing/token-usage.js';

export interface CostMismatch {
  id: number;
  model: string;
  stored: number | null;
  recomputed: number | null;
}

/**
 * Recomputes the cost of every model row the service stored (rows a spec inserted by hand carry
 * no cost status, rows whose usage Gemini did not report as valid counts carry no counts: both
 * are skipped) from its stored token counts and the price table in force.
 * A row whose model has no price was priced as its session's model (Google reroutes retired
 * models), so that is the fallback, as when the turn was priced.
 */
export async function storedCostMismatches(dataSource: DataSource, pricing: PricingService): Promise<{ checked: number; mismatches: CostMismatch[] }> {
  const rows: Record<string, unknown>[] = await dataSource.query(
    `SELECT m.*, s.model AS session_model FROM chat_history m JOIN chat_sessions s ON s.chat_id = m.chat_id
      WHERE m.role = 'model' AND m.cost_status IS NOT NULL AND m.total_tokens IS NOT NULL ORDER BY m.id`,
  );
  const mismatches = rows.flatMap((row): CostMismatch[] => {
    const usage = countsToUsage(row as Parameters<typeof countsToUsage>[0]);
    const recomputed = pricing.cost(row.model as string, row.session_model as string, usage).costNanoUsd;
    const stored = row.cost_nano_usd === null ? null : Number(row.cost_nano_usd);
    return stored === recomputed ? [] : [{ id: Number(row.id), model: String(row.model), stored, recomputed }];
  });
  return { checked: rows.length, mismatches };
}
