import { Inject, Injectable } from '@nestjs/common';
import { FinishReason } from '@google/genai';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ErrorCode } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import type { CostStatus } from '../core/cost-status.js';
import { MODALITIES } from '../core/modality.js';
import { cachedByModality, promptByModality } from '../core/token-usage.js';
import type { TokenUsage } from '../core/token-usage.js';
import { DatabaseHealth } from '../database/database-health.js';
import { ModelCatalog } from '../models/model-catalog.js';

/** What a paid call settled as: the ledger line's model, counts and cost. */
export interface SettledSpend {
  model: string;
  usage: TokenUsage | null;
  costNanoUsd: number | null;
  costStatus: CostStatus;
}

/** The label of a value outside a label's closed set: a series is never minted from outside input. */
export const OTHER = 'other';

const FINISH_REASONS = new Set<string>(Object.values(FinishReason));
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Upstream calls and turns: from a tenth of a second to Gemini's slowest answers. */
const SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];
/**
 * Why a file's bytes were read from the file store: a turn sending it inline, a turn uploading it
 * to Gemini's Files API, or a client downloading it (GET /files/:id/content).
 */
export type FileReadPurpose = 'inline' | 'files_api' | 'download';

/** A turn's outcome when it is not an error code; error codes are those of the one table (common/errors.ts). */
const OUTCOMES = new Set<string>(['answered', 'replayed', ...Object.values(ErrorCode)]);

/**
 * What the service counts for Prometheus (GET /metrics, when METRICS_ENABLED). One registry per
 * app, so two apps in one process (the test suites) never share a series; aggregation across
 * instances is Prometheus's job. Every label takes its value from a closed set — models of the
 * model table, finish reasons of the SDK's enum, the error code table, HTTP statuses — and
 * anything else is `other`: no user, session, key or upstream free text ever names a series.
 *
 * The spend counters mirror the ledger: a paid call is counted when its line is written, by the
 * model the ledger names, so `sum(gemini_chat_cost_nano_usd_total)` is the usage report's total.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  private readonly turns = this.counter(
    'gemini_chat_turns_total',
    'Turns (POST /sessions/:id/messages and /chat) by model, outcome (answered, replayed or the error code), finish reason and whether streamed.',
    ['model', 'outcome', 'finish_reason', 'streamed'],
  );
  private readonly turnSeconds = this.seconds(
    'gemini_chat_turn_duration_seconds',
    'Time from a turn arriving to its answer being settled (stored or refused).',
    ['streamed', 'outcome'],
  );
  private readonly paidCalls = this.counter(
    'gemini_chat_paid_calls_total',
    'Calls Gemini ran, as written to the spend ledger (answered or not), by the model the ledger names and cost status.',
    ['model', 'cost_status'],
  );
  private readonly tokens = this.counter(
    'gemini_chat_tokens_total',
    'Tokens of the ledger, by model, class (prompt, cached, output, thoughts, tool_prompt) and modality (text, image, audio, video, document).',
    ['model', 'class', 'modality'],
  );
  private readonly costNanoUsd = this.counter(
    'gemini_chat_cost_nano_usd_total',
    'Spend in the ledger, in nano-dollars (1e-9 USD), by model and cost status.',
    ['model', 'cost_status'],
  );
  private readonly unrecordedSpend = this.counter(
    'gemini_chat_spend_unrecorded_total',
    'Paid calls whose ledger line could not be written (the database refused it twice): each one is money not in the books.',
  );
  private readonly upstreamSeconds = this.seconds(
    'gemini_chat_upstream_duration_seconds',
    'One attempt of a call to Gemini, by SDK method and outcome (ok or error): retries are attempts of their own.',
    ['method', 'outcome'],
  );
  private readonly upstreamErrors = this.counter(
    'gemini_chat_upstream_errors_total',
    "Failed attempts of calls to Gemini, by SDK method, Gemini's HTTP status (none: no answer) and the error code it maps to.",
    ['method', 'status', 'code'],
  );
  private readonly firstDeltaSeconds = this.seconds(
    'gemini_chat_time_to_first_delta_seconds',
    'Streamed turns: from the call to Gemini to the first text of its reply.',
  );
  private readonly refusals = this.counter(
    'gemini_chat_refusals_total',
    'Requests answered with an error body, by its code and HTTP status (4xx refusals and 5xx failures alike).',
    ['code', 'status'],
  );
  private readonly requests = this.counter(
    'gemini_chat_http_requests_total',
    'HTTP requests answered, by method, route pattern (unmatched: answered without a route) and status (aborted: the client left first).',
    ['method', 'route', 'status'],
  );
  private readonly fileReads = this.counter(
    'gemini_chat_file_reads_total',
    "Reads of a file's bytes from the file store, by purpose (inline, files_api: a turn sending it; download).",
    ['purpose'],
  );
  private readonly fileReadBytes = this.counter(
    'gemini_chat_file_read_bytes_total',
    'Bytes of files read from the file store, by purpose (as gemini_chat_file_reads_total).',
    ['purpose'],
  );
  private readonly streamsOpen = new Gauge({
    name: 'gemini_chat_streams_open',
    help: 'Streamed turns in progress (one whose client left runs to its end).',
    registers: [this.registry],
  });

  constructor(
    @Inject(appConfig.KEY) config: AppConfig,
    private readonly models: ModelCatalog,
    @Inject(DatabaseHealth) database: Pick<DatabaseHealth, 'pool'>,
  ) {
    new Gauge({
      name: 'gemini_chat_database_connections',
      help: 'PostgreSQL connections of this instance, by state (in_use, idle, waiting: requests queued for one). None on SQLite.',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const pool = database.pool();
        if (!pool) return;
        this.set({ state: 'in_use' }, pool.inUse);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
    new Gauge({
      name: 'gemini_chat_info',
      help: 'Always 1: what this instance runs on (database kind, offline mode).',
      labelNames: ['database', 'offline'],
      registers: [this.registry],
    }).set({ database: config.database.kind, offline: String(config.offline) }, 1);
    // Process metrics (CPU, memory, GC) and the event loop's delay, as nodejs_eventloop_lag_*.
    if (config.metricsEnabled) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }

  private counter<L extends string = never>(name: string, help: string, labelNames: L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private seconds<L extends string = never>(name: string, help: string, labelNames: L[] = []): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets: SECONDS_BUCKETS, registers: [this.registry] });
  }

  /** A turn that ended: `outcome` is `answered`, `replayed`, or the error code its client was given. */
  turnEnded(model: string | null, outcome: string, finishReason: string | null, streamed: boolean, seconds: number): void {
    const labels = { outcome: this.code(outcome), streamed: String(streamed) };
    this.turns.inc({ ...labels, model: this.model(model), finish_reason: this.finishReason(finishReason) });
    this.turnSeconds.observe(labels, seconds);
  }

  /** A ledger line written: what Gemini ran, counted once it is in the books. */
  spendRecorded({ model, usage, costNanoUsd, costStatus }: SettledSpend): void {
    const labels = { model: this.model(model), cost_status: costStatus };
    this.paidCalls.inc(labels);
    if (costNanoUsd) this.costNanoUsd.inc(labels, costNanoUsd);
    if (!usage) return;
    const add = (tokenClass: string, modality: string, count: number) => {
      if (count > 0) this.tokens.inc({ model: labels.model, class: tokenClass, modality }, count);
    };
    // The usage JSON's own splits (a closed set of modalities): they add up to the ledger's prompt
    // and cached counts, even when Gemini's contradict each other.
    const prompt = promptByModality(usage);
    const cached = cachedByModality(usage);
    for (const modality of MODALITIES) {
      add('prompt', modality, prompt[modality]);
      add('cached', modality, cached[modality]);
    }
    add('output', 'text', usage.outputTokens);
    add('thoughts', 'text', usage.thoughtsTokens);
    add('tool_prompt', 'text', usage.toolPromptTokens);
  }

  spendUnrecorded(): void {
    this.unrecordedSpend.inc();
  }

  /** One attempt of an upstream call; `status` and `code` only when it failed. */
  upstreamAttempt(method: string, seconds: number, failure?: { status: number | null; code: string }): void {
    this.upstreamSeconds.observe({ method, outcome: failure ? 'error' : 'ok' }, seconds);
    if (failure) this.upstreamErrors.inc({ method, status: this.status(failure.status, 'none'), code: this.code(failure.code) });
  }

  /** A file's bytes read from the file store: `bytes` null when there were none (deleted meanwhile). */
  fileRead(purpose: FileReadPurpose, bytes: number | null): void {
    this.fileReads.inc({ purpose });
    if (bytes) this.fileReadBytes.inc({ purpose }, bytes);
  }

  firstDelta(seconds: number): void {
    this.firstDeltaSeconds.observe(seconds);
  }

  streamOpened(): () => void {
    this.streamsOpen.inc();
    let open = true;
    return () => {
      if (open) this.streamsOpen.dec();
      open = false;
    };
  }

  /**
   * An HTTP answer: counted by its route pattern, and by its code when it is an error body;
   * `aborted` when the client left before it was sent whole.
   */
  answered(method: string, route: string | null, status: number | 'aborted', errorCode: string | null): void {
    const statusLabel = status === 'aborted' ? status : this.status(status, OTHER);
    this.requests.inc({ method: METHODS.has(method) ? method : OTHER, route: route ?? 'unmatched', status: statusLabel });
    if (errorCode !== null && status !== 'aborted' && status >= 400) this.refusals.inc({ code: this.code(errorCode), status: statusLabel });
  }

  private model(name: string | null): string {
    if (!name) return 'none';
    return this.models.find(name)?.model ?? OTHER;
  }

  private finishReason(reason: string | null): string {
    if (!reason) return 'none';
    return FINISH_REASONS.has(reason) ? reason : OTHER;
  }

  private code(code: string): string {
    return OUTCOMES.has(code) ? code : OTHER;
  }

  private status(status: number | null, missing: string): string {
    return status !== null && Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : missing;
  }
}
