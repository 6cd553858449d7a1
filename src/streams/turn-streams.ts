import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import { TurnFinished, TurnNotFound } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { now } from '../core/clock.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { isFinal } from './turn-event.js';
import type { TurnEvent, TurnEventName, TurnState } from './turn-event.js';
import { EVENTS_PER_READ, TurnStreamsRepository } from './turn-streams.repository.js';
import type { StoredTurn } from './turn-streams.repository.js';

/** Deltas are written in batches: at most this long after the first of a batch arrived. */
export const FLUSH_MS = 50;
/** A reader on another instance than the turn's asks for new events this often. */
export const FOLLOW_POLL_MS = 100;
/** On PostgreSQL, an instance asks this often whether a cancel was requested for one of its running turns. */
export const CANCEL_POLL_MS = 200;
/** Old rows are pruned when a turn opens, at most this often per instance. */
const PRUNE_EVERY_MS = 60_000;

type Repos = { turnStreams: TurnStreamsRepository };

/**
 * A turn's events live in the database (`turn_events`), the source of truth on both databases:
 * the instance running a turn writes them in batches — one INSERT every FLUSH_MS at most, never
 * a transaction per token, none held while Gemini answers — and any instance reads them to
 * resume or re-attach a stream. Readers on the running instance are woken when a batch is
 * written; readers elsewhere poll (FOLLOW_POLL_MS). A cancel is a flag on the turn's row, which
 * any instance sets: the running instance sees it at once when it set it itself, else (on
 * PostgreSQL) by polling its running turns' flags (CANCEL_POLL_MS).
 */
@Injectable()
export class TurnStreams implements OnModuleDestroy {
  private readonly logger = new Logger(TurnStreams.name);
  /** Turns running on this instance. */
  private readonly live = new Map<string, LiveTurn>();
  /** Readers on this instance waiting for a turn's next batch. */
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly retentionMs: number;
  /** Longer than any turn runs (two calls within their deadlines, and the rest): a running row older than this lost its instance. */
  private readonly staleMs: number;
  private readonly pollsCancels: boolean;
  private cancelPoll: NodeJS.Timeout | null = null;
  private lastPrune = 0;

  constructor(
    private readonly unitOfWork: UnitOfWork<Repos>,
    private readonly reads: TurnStreamsRepository,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    this.retentionMs = config.turnRetentionMs;
    this.staleMs = 2 * config.gemini.timeoutMs + 60_000;
    this.pollsCancels = config.database.kind === 'postgres';
  }

  /**
   * The turn's row, running, and its first event (`turn`), written before Gemini is called;
   * `onEvent` gets every event of the turn as it is made, before it is written.
   */
  async open(turn: { turnId: string; sessionId: string; userId: string }, onEvent: (event: TurnEvent) => void): Promise<LiveTurn> {
    const createdAt = now();
    const first: TurnEvent = { seq: 1, event: 'turn', data: { turn_id: turn.turnId, session_id: turn.sessionId } };
    const prune = Date.now() - this.lastPrune >= PRUNE_EVERY_MS;
    if (prune) this.lastPrune = Date.now();
    await this.unitOfWork.commit(async ({ turnStreams }) => {
      if (prune) await turnStreams.prune(this.cutoff(this.retentionMs), this.cutoff(this.staleMs));
      await turnStreams.open({ ...turn, createdAt }, [first]);
    });
    const live = new LiveTurn(turn.turnId, onEvent, {
      write: (events) => this.unitOfWork.commit(({ turnStreams }) => turnStreams.append(turn.turnId, events, now()), { durable: false }),
      end: (state, events) => this.unitOfWork.commit(({ turnStreams }) => turnStreams.end(turn.turnId, state, events, now())),
      written: () => this.wake(turn.turnId),
      ended: () => this.forget(turn.turnId),
      failed: (error) => this.logger.warn(`turn ${turn.turnId}: events not written: ${String(error)}`),
    });
    this.live.set(turn.turnId, live);
    onEvent(first);
    if (this.pollsCancels && !this.cancelPoll) {
      this.cancelPoll = setInterval(() => void this.pollCancels(), CANCEL_POLL_MS);
      this.cancelPoll.unref();
    }
    return live;
  }

  /**
   * Asks for a running turn of the session to be cancelled, wherever it runs. TurnNotFound when
   * the session has no such turn (or its events are pruned), TurnFinished when it is over.
   */
  async requestCancel(sessionId: string, turnId: string): Promise<void> {
    const marked = await this.unitOfWork.commit(({ turnStreams }) => turnStreams.requestCancel(sessionId, turnId, now()));
    if (!marked) {
      const turn = await this.reads.find(turnId);
      if (!turn || turn.sessionId !== sessionId) throw new TurnNotFound(turnId);
      if (turn.state !== 'running' || this.isStale(turn)) throw new TurnFinished(turnId);
    }
    this.live.get(turnId)?.cancel();
  }

  /** The turn when it is the session's and its events are kept (running, or over for less than the retention); else null. */
  /** Whether a client that got every event up to `afterSeq` has the turn's last one: it is over, and nothing follows. */
  async hasEnded(turn: StoredTurn, afterSeq: number): Promise<boolean> {
    return turn.state !== 'running' && afterSeq > 0 && (await this.reads.eventsAfter(turn.turnId, afterSeq)).length === 0;
  }

  async resumable(sessionId: string, turnId: string): Promise<StoredTurn | null> {
    const turn = await this.reads.find(turnId);
    if (!turn || turn.sessionId !== sessionId) return null;
    if (turn.state === 'running') return this.isStale(turn) ? null : turn;
    return turn.endedAt !== null && turn.endedAt >= this.cutoff(this.retentionMs) ? turn : null;
  }

  /**
   * Writes the turn's events after `afterSeq` to `write`, as they are written, until its last
   * (`done` or `error`) or until `stop` aborts. Resolves false when the turn went away meanwhile
   * (its session was deleted, or its instance died).
   */
  async follow(turnId: string, afterSeq: number, write: (event: TurnEvent) => void, stop: AbortSignal): Promise<boolean> {
    let last = afterSeq;
    const drain = async (): Promise<'ended' | 'more' | 'none'> => {
      const events = await this.reads.eventsAfter(turnId, last);
      for (const event of events) {
        if (stop.aborted) return 'ended';
        write(event);
        last = event.seq;
        if (isFinal(event.event)) return 'ended';
      }
      return events.length === EVENTS_PER_READ ? 'more' : 'none';
    };
    while (!stop.aborted) {
      const drained = await drain();
      if (drained === 'ended') return true;
      if (drained === 'more') continue;
      const turn = await this.reads.find(turnId);
      // Its end and last events commit together: once it is over, reading on finds them.
      if (turn && turn.state !== 'running') {
        let rest = await drain();
        while (rest === 'more') rest = await drain();
        return rest === 'ended' || stop.aborted;
      }
      if (!turn || this.isStale(turn)) return false;
      await this.nextBatch(turnId, stop);
    }
    return true;
  }

  /** The running turn of each session, by session id (none: not in the map). */
  activeTurns(sessionIds: readonly string[]): Promise<Map<string, string>> {
    return this.reads.activeTurns(sessionIds, this.cutoff(this.staleMs));
  }

  onModuleDestroy(): void {
    if (this.cancelPoll) clearInterval(this.cancelPoll);
    this.cancelPoll = null;
  }

  private cutoff(ms: number): string {
    return new Date(Date.now() - ms).toISOString();
  }

  private isStale(turn: StoredTurn): boolean {
    return turn.createdAt < this.cutoff(this.staleMs);
  }

  /** Resolves when this instance writes the turn's next batch, after FOLLOW_POLL_MS at most, or when `stop` aborts. */
  private nextBatch(turnId: string, stop: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.waiting.get(turnId) ?? this.waiting.set(turnId, new Set()).get(turnId)!;
      const done = () => {
        clearTimeout(timer);
        stop.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiting.get(turnId) === waiters) this.waiting.delete(turnId);
        resolve();
      };
      const timer = setTimeout(done, FOLLOW_POLL_MS);
      stop.addEventListener('abort', done, { once: true });
      waiters.add(done);
    });
  }

  private wake(turnId: string): void {
    for (const wake of [...(this.waiting.get(turnId) ?? [])]) wake();
  }

  private forget(turnId: string): void {
    this.live.delete(turnId);
    this.wake(turnId);
    if (this.live.size === 0 && this.cancelPoll) {
      clearInterval(this.cancelPoll);
      this.cancelPoll = null;
    }
  }

  private polling = false;

  /** PostgreSQL: the cancels other instances asked for, of the turns running here. */
  private async pollCancels(): Promise<void> {
    if (this.polling || this.live.size === 0) return;
    this.polling = true;
    try {
      for (const turnId of await this.reads.cancelRequested([...this.live.keys()])) this.live.get(turnId)?.cancel();
    } catch (error) {
      this.logger.warn(`could not read cancel requests: ${String(error)}`);
    } finally {
      this.polling = false;
    }
  }
}

interface LiveTurnStore {
  write(events: TurnEvent[]): Promise<void>;
  end(state: Exclude<TurnState, 'running'>, events: TurnEvent[]): Promise<void>;
  written(): void;
  ended(): void;
  failed(error: unknown): void;
}

/**
 * A turn running on this instance: its events numbered, handed to its client at once and
 * written in batches, in order (one write at a time); its cancel.
 */
export class LiveTurn {
  private readonly cancelled = new AbortController();
  private seq = 1;
  private pending: TurnEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private over = false;

  constructor(
    readonly turnId: string,
    private readonly onEvent: (event: TurnEvent) => void,
    private readonly store: LiveTurnStore,
  ) {}

  /** Aborts when a cancel of the turn was asked for. */
  get signal(): AbortSignal {
    return this.cancelled.signal;
  }

  cancel(): void {
    if (!this.over) this.cancelled.abort();
  }

  /** An event of the running turn: to its client now, to the database with the next batch. */
  emit(event: Exclude<TurnEventName, 'turn' | 'done' | 'error'>, data: unknown): void {
    if (this.over) return;
    const made = { seq: ++this.seq, event, data };
    this.pending.push(made);
    this.onEvent(made);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /**
   * The turn's last event (`done` or `error`) and its state, written with what is still pending;
   * resolves once written (or once writing failed: logged, the turn's outcome stands).
   */
  async end(state: Exclude<TurnState, 'running'>, event: 'done' | 'error', data: unknown): Promise<void> {
    if (this.over) return;
    const made = { seq: ++this.seq, event, data };
    this.onEvent(made);
    this.over = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const events = [...this.pending, made];
    this.pending = [];
    this.writing = this.writing.then(() => this.store.end(state, events)).catch((error: unknown) => this.store.failed(error));
    await this.writing;
    this.store.ended();
  }

  private flush(): void {
    this.timer = null;
    const events = this.pending;
    this.pending = [];
    if (events.length === 0) return;
    this.writing = this.writing
      .then(() => this.store.write(events))
      .then(() => this.store.written())
      .catch((error: unknown) => this.store.failed(error));
  }
}
