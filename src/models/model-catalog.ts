import { Inject, Injectable } from '@nestjs/common';
import { DAY_MS } from '../core/clock.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { loadModelTable } from './model-table.js';
import type { ModelEntry, ModelTable } from './model-table.js';

/** A model in use that Google stops serving within NOTICE_DAYS, or has stopped serving. */
export interface ModelNotice {
  model: string;
  status: 'deprecated' | 'retired';
  shutdownDate: string | null;
  replacement: string | null;
}

/** How far ahead a shutdown is announced at start, in /health and on the page. */
export const NOTICE_DAYS = 30;

export function normaliseModel(model: string): string {
  return model.trim().replace(/^models\//, '');
}

/**
 * The model table in force (bundled, or PRICING_FILE): rates, token limits and lifecycle of
 * every model, loaded once. Everything that asks "what is this model" asks here.
 */
@Injectable()
export class ModelCatalog {
  private readonly table: ModelTable;
  private readonly byModel: Map<string, ModelEntry>;

  constructor(@Inject(appConfig.KEY) config: Pick<AppConfig, 'pricingFile'>) {
    this.table = loadModelTable(config.pricingFile);
    this.byModel = new Map(this.table.models.map((entry) => [entry.model, entry]));
  }

  get read(): string {
    return this.table.read;
  }

  entries(): ModelEntry[] {
    return this.table.models;
  }

  /** The entry for a model id: exact, then without a `-001`-style version suffix. */
  find(model: string | null | undefined): ModelEntry | undefined {
    if (!model) return undefined;
    const id = normaliseModel(model);
    return this.byModel.get(id) ?? this.byModel.get(id.replace(/-\d{3}$/, ''));
  }

  /** The most prompt tokens one call to the model may carry; null when the table does not say. */
  inputTokenLimit(model: string): number | null {
    return this.find(model)?.input_token_limit ?? null;
  }

  /** A session's context limit: its own (`maxContextTokens`) within the model's; null when neither is known. */
  contextLimit(model: string, maxContextTokens: number | null): number | null {
    const ofModel = this.inputTokenLimit(model);
    if (maxContextTokens === null) return ofModel;
    return ofModel === null ? maxContextTokens : Math.min(maxContextTokens, ofModel);
  }

  /**
   * What to tell people about a model in use: null while it is served for more than
   * NOTICE_DAYS; `retired` once its shutdown date has come (or the table says so).
   */
  noticeFor(model: string, today: Date = new Date()): ModelNotice | null {
    const entry = this.find(model);
    if (!entry) return null;
    const shutdownAt = entry.shutdown_date === null ? null : Date.parse(`${entry.shutdown_date}T00:00:00Z`);
    const retired = entry.status === 'retired' || (shutdownAt !== null && shutdownAt <= today.getTime());
    const soon = shutdownAt !== null && shutdownAt - today.getTime() <= NOTICE_DAYS * DAY_MS;
    if (!retired && !soon) return null;
    return {
      model: entry.model,
      status: retired ? 'retired' : 'deprecated',
      shutdownDate: entry.shutdown_date,
      replacement: entry.replacement,
    };
  }
}

/** One line for a log or a banner. */
export function describeNotice(notice: ModelNotice): string {
  const when = notice.shutdownDate
    ? notice.status === 'retired'
      ? ` (shut down ${notice.shutdownDate})`
      : ` (shutdown ${notice.shutdownDate})`
    : '';
  const instead = notice.replacement ? `; Google names ${notice.replacement} in its place` : '';
  return `${notice.model} is ${notice.status}${when}${instead}`;
}
