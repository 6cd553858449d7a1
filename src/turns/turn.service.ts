import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { callerScope } from '../access/caller.js';
import type { Caller } from '../access/caller.js';
import { BudgetService } from '../budgets/budget.service.js';
import {
  ContextTooLong,
  NotReady,
  quoted,
  SessionNotFound,
  TurnNotResumable,
  UpstreamFileUnavailable,
  UserNotFound,
} from '../common/errors.js';
import { toErrorBody } from '../common/http-exception.filter.js';
import type { DomainError } from '../common/errors.js';
import { RateLimiter } from '../coordination/rate-limiter.js';
import { SessionLine } from '../coordination/session-line.js';
import { now } from '../core/clock.js';
import { nanoToUsd } from '../core/money.js';
import { usageToCounts, usageToJson } from '../core/token-usage.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { CANCELLED, LlmClient, promptUsageOf } from '../gemini/llm-client.js';
import type { LlmRequest, LlmResult } from '../gemini/llm-client.js';
import { WITHOUT_KEY } from '../idempotency/idempotency-key.js';
import type { IdempotentRequest } from '../idempotency/idempotency-key.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { Metrics } from '../metrics/metrics.js';
import { ConversationCache } from '../messages/conversation-cache.js';
import type { NewTurn, TurnHistory } from '../messages/message.js';
import { normaliseModel } from '../models/model-catalog.js';
import { PricingService } from '../pricing/pricing.service.js';
import type { Session } from '../sessions/session.js';
import { SessionsService } from '../sessions/sessions.service.js';
import type { TurnSession, TurnTarget } from '../sessions/turn-target.js';
import { TurnMedia } from '../files/turn-media.js';
import type { TurnFiles } from '../files/turn-media.js';
import { MessagesService } from '../messages/messages.service.js';
import { parseEventId } from '../streams/turn-event.js';
import type { TurnEvent } from '../streams/turn-event.js';
import { TurnStreams } from '../streams/turn-streams.js';
import type { LiveTurn } from '../streams/turn-streams.js';
import { ContextPlanner, NO_HISTORY } from './context-planner.js';
import type { PlannedRequest, TurnInput } from './context-planner.js';
import { spendOf, storeTurn } from './store-turn.js';
import type { TurnRepositories, TurnResult } from './store-turn.js';
import { TurnHolds } from './turn-holds.js';

export interface TurnOptions {
  /** The ids of the files the message carries (the owner's; at most MAX_ATTACHMENTS). */
  attachments?: readonly string[];
  /** The request's Idempotency-Key: the same key and turn get the first result again. */
  idempotency?: IdempotentRequest;
  /**
   * Streams the turn (a stored session's): once it is admitted and about to call Gemini, its
   * events — `turn`, a `delta` per piece of text as Gemini writes it, then `done` with the
   * rendered result or `error` with the error body — go to `onEvent` and are kept in the
   * database (TurnStreams), where a client that lost them resumes, and where it can be cancelled.
   */
  stream?: TurnStreaming;
}

/** A streamed turn, and the last of its events a client got (0: none). */
export interface ResumePoint {
  turnId: string;
  afterSeq: number;
  /** The client has the turn's last event already: nothing to send (204, which stops an EventSource reconnecting). */
  ended: boolean;
}

export interface TurnStreaming {
  onEvent: (event: TurnEvent) => void;
  /** The `done` event's body: the JSON answer of the route. */
  render: (result: TurnResult) => unknown;
}

export interface TurnReply {
  result: TurnResult;
  /** The first answer of a repeated Idempotency-Key, given again. */
  replayed: boolean;
  /** Time spent waiting for Gemini; null for a replay. */
  upstreamMs: number | null;
}

/** What Gemini answered, for which request, and how long it took. */
interface Exchange {
  answer: LlmResult;
  sent: PlannedRequest;
  upstreamMs: number;
}

/**
 * Sending a message: the one use case behind POST /sessions/:id/messages and POST /chat,
 * streamed or not. `answer` reads top to bottom; no transaction or connection is held while
 * Gemini answers, and a turn that fails stores nothing but what Gemini was paid.
 */
@Injectable()
export class TurnService {
  private readonly logger = new Logger(TurnService.name);
  /** Turns arrived and not yet settled, streamed ones whose client left included. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private draining = false;

  constructor(
    private readonly sessions: SessionsService,
    private readonly conversations: ConversationCache,
    private readonly planner: ContextPlanner,
    private readonly line: SessionLine,
    private readonly idempotency: IdempotencyService,
    private readonly rateLimiter: RateLimiter,
    private readonly budgets: BudgetService,
    private readonly llm: LlmClient,
    private readonly pricing: PricingService,
    private readonly unitOfWork: UnitOfWork<TurnRepositories>,
    private readonly metrics: Metrics,
    private readonly media: TurnMedia,
    private readonly messages: MessagesService,
    private readonly streams: TurnStreams,
  ) {}

  send(caller: Caller, target: TurnTarget, message: string, options: TurnOptions = {}): Promise<TurnReply> {
    // Refused before anything is done: this instance is stopping, another one takes the retry.
    if (this.draining) return Promise.reject(new NotReady('draining'));
    return this.track(this.counted(options.stream !== undefined, (asked) => this.answer(caller, target, message, options, asked)));
  }

  /**
   * A turn, counted when it ends (Metrics.turnEnded): answered, replayed, or the error code its
   * client gets; by the model its session asks for (known once the session is), or that answered.
   */
  private async counted(streamed: boolean, turn: (asked: { model: string | null }) => Promise<TurnReply>): Promise<TurnReply> {
    const started = performance.now();
    const closeStream = streamed ? this.metrics.streamOpened() : () => undefined;
    const asked = { model: null as string | null };
    const ended = (model: string | null, outcome: string, finishReason: string | null) =>
      this.metrics.turnEnded(model, outcome, finishReason, streamed, (performance.now() - started) / 1000);
    let reply: TurnReply;
    try {
      reply = await turn(asked);
    } catch (error) {
      closeStream();
      ended(asked.model, toErrorBody(error).body.code, null);
      throw error;
    }
    closeStream();
    const { model, finishReason } = reply.result.modelMessage;
    ended(model ?? asked.model, reply.replayed ? 'replayed' : 'answered', finishReason);
    return reply;
  }

  private async answer(
    caller: Caller,
    target: TurnTarget,
    message: string,
    { idempotency = WITHOUT_KEY, stream, attachments: fileIds = [] }: TurnOptions,
    asked: { model: string | null },
  ): Promise<TurnReply> {
    this.planner.checkLength(message);
    // The turn's id from its start: its stream, its cancel, its ledger line.
    const turnId = randomUUID();
    // The place in the session's line is taken on arrival, before any lookup (whose answers may
    // come back in any order): turns run in the order they came.
    const place = this.line.enter(target.sessionId);
    const holds = new TurnHolds();
    let live: LiveTurn | null = null;
    try {
      const turnSession = await this.sessions.resolveTarget(caller, target);
      const { session } = turnSession;
      asked.model = session.model;
      const scope = callerScope(caller, session.userId);
      const owner = { userId: session.userId, sessionId: session.id };
      const claim = await this.idempotency.claim<TurnResult>(scope, idempotency, fingerprintOf(target, message, fileIds), owner);
      // A retry gets its first answer, whatever became of its files since.
      if (claim.replayed) return { result: claim.value, replayed: true, upstreamMs: null };
      holds.claim = claim.hold;
      // The owner's files, each once (else 404 or 400).
      const turn: TurnInput = { message, attachments: await this.media.attach(session.userId, fileIds) };
      await this.rateLimiter.take(scope);
      holds.lease = await place.waitForTurn();
      const receivedAt = now();
      const history = await this.historyOf(turnSession);
      // Over the limit with truncation disabled: refused (422) before anything is reserved or sent.
      const planned = await this.planner.plan(session, history, turn);
      if (this.draining) throw new NotReady('draining'); // nothing started yet: a retry goes elsewhere
      // Refused (429) before any upstream call when the owner's daily limit is spent.
      holds.reservation = await this.budgets.admit(
        session.userId,
        turnSession.ownerDailyBudgetNanoUsd,
        session.model,
        // The text by its characters, the files by their token weight (never their bytes), audio at audio rates.
        promptUsageOf(planned.request),
      );
      // Admitted, about to call Gemini: a streamed turn's first event, and from here it can be resumed and cancelled.
      if (stream && turnSession.kind !== 'draft') {
        live = await this.streams.open({ turnId, sessionId: session.id, userId: session.userId }, stream.onEvent);
      }
      const exchange = await this.exchange(session, history, turn, planned, live);
      // Gemini ran the call: from here on it is paid for, whatever the client is answered.
      const stored = this.priced(session, turn, receivedAt, exchange);
      // Untitled sessions are named after their first message (or its files), with no extra model call.
      const title = history.messages.length === 0 ? titleFrom(message || turn.attachments.map((file) => file.name).join(', ')) : null;
      const result = await this.settle(turnId, turnSession, stored, title, holds, exchange.answer.failure);
      if (live) await live.end(stored.finishReason === CANCELLED ? 'cancelled' : 'done', 'done', stream!.render(result));
      return { result, replayed: false, upstreamMs: exchange.upstreamMs };
    } catch (error) {
      await holds.abandon(error);
      if (live) await live.end('failed', 'error', toErrorBody(error).body);
      throw error;
    } finally {
      place.leave();
    }
  }

  /**
   * Where a client picks up a streamed turn of a session it may use (404 otherwise, as a missing
   * session): the turn and the last event it got. `lastEventId` (`<turn_id>:<seq>`) must name a
   * turn of this session whose events are kept — the path's turn, when there is one — and without
   * it the turn is read from its first event. Else 410 TURN_NOT_RESUMABLE. Nothing else is done:
   * no turn is started, nothing claimed, counted or reserved.
   */
  async resumePoint(caller: Caller, sessionId: string, turnId: string | null, lastEventId: string | undefined): Promise<ResumePoint> {
    await this.sessions.getFor(caller, sessionId);
    const named = lastEventId === undefined ? null : parseEventId(lastEventId);
    if (lastEventId !== undefined && (!named || (turnId !== null && named.turnId !== turnId))) {
      throw new TurnNotResumable();
    }
    const id = named?.turnId ?? turnId!;
    const turn = await this.streams.resumable(sessionId, id);
    if (!turn) {
      throw named
        ? new TurnNotResumable()
        : new TurnNotResumable(`Turn ${quoted(id)} is no turn of this session whose events are still kept.`);
    }
    const afterSeq = named?.seq ?? 0;
    return { turnId: id, afterSeq, ended: await this.streams.hasEnded(turn, afterSeq) };
  }

  /** The turn's events after the resume point, as they are written (TurnStreams.follow). */
  follow({ turnId, afterSeq }: ResumePoint, write: (event: TurnEvent) => void, stop: AbortSignal): Promise<boolean> {
    return this.streams.follow(turnId, afterSeq, write, stop);
  }

  /** Asks for a running turn of a session the caller may use to be cancelled, wherever it runs (404 session or turn, 409 over). */
  async cancel(caller: Caller, sessionId: string, turnId: string): Promise<void> {
    await this.sessions.getFor(caller, sessionId);
    await this.streams.requestCancel(sessionId, turnId.toLowerCase());
  }

  /**
   * Stops taking turns and waits, at most `timeoutMs`, for those in flight — from the moment
   * they arrived — to settle; says whether they all did. A turn still waiting for its session's
   * earlier turns when draining starts is refused (503 NOT_READY) rather than started.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const settled = Promise.allSettled([...this.inFlight]).then(() => true as const);
    const all = await Promise.race([settled, timeout]);
    clearTimeout(timer);
    return all;
  }

  private track<T>(turn: Promise<T>): Promise<T> {
    this.inFlight.add(turn);
    const forget = () => this.inFlight.delete(turn);
    turn.then(forget, forget);
    return turn;
  }

  /** The stored conversation the turn builds on: none for a new chat; 404 for a session deleted since it was looked up. */
  private async historyOf(turnSession: TurnSession): Promise<TurnHistory> {
    if (turnSession.kind === 'draft') return NO_HISTORY;
    const { session } = turnSession;
    const history = await this.conversations.contextOf(session.id, session.totals.messageCount);
    if (!history) throw new SessionNotFound(session.id);
    // Files deleted since their turn are sent, and weighed, as a note.
    const messages = await this.messages.withDeletedFiles(history.messages);
    return messages === history.messages ? history : { ...history, messages };
  }

  /**
   * One call to Gemini, with the files of the turns it carries. Two refusals come before anything
   * is generated, so nothing was billed, and each is recovered from once: a prompt over the
   * model's limit is planned again to fit the limit Gemini named; a file Gemini no longer has
   * (its copy expired or went) is uploaded again. The files are resolved once for the turn:
   * a second call reads no bytes the first one read.
   */
  private async exchange(
    session: Session,
    history: TurnHistory,
    turn: TurnInput,
    planned: PlannedRequest,
    live: LiveTurn | null,
  ): Promise<Exchange> {
    const started = performance.now();
    const files = this.media.forTurn();
    let sent = planned;
    let refitted = false;
    let reuploaded = false;
    for (;;) {
      try {
        const request = await withMedia(sent, files);
        const answer = await (live
          ? this.llm.stream(request, (text) => live.emit('delta', { text }), { signal: live.signal })
          : this.llm.generate(request));
        return { answer, sent, upstreamMs: performance.now() - started };
      } catch (error) {
        if (error instanceof UpstreamFileUnavailable && !reuploaded) {
          reuploaded = true;
          await files.forget(error.uris);
        } else if (error instanceof ContextTooLong && !refitted) {
          refitted = true;
          sent = await this.planner.refit(session, history, turn, planned, error);
        } else {
          throw error;
        }
      }
    }
  }

  /** Both rows of the turn, the reply priced at the rates of the day it was answered (the day its rows say). */
  private priced(
    session: Session,
    { message, attachments }: TurnInput,
    receivedAt: string,
    { answer, sent, upstreamMs }: Exchange,
  ): NewTurn {
    const answeredAt = now();
    // A count Gemini never finished, or a model name that was not one: priced, but estimated.
    const certain = answer.complete && !answer.modelVersionRejected;
    const cost = this.pricing.cost(answer.modelVersion, session.model, answer.usage, new Date(answeredAt), certain);
    if (answer.modelVersionRejected) {
      this.logger.warn(
        `Gemini named the model that answered with something that is not a model id: priced as ${session.model} (estimated)`,
      );
    } else if (cost.costStatus !== 'priced' && answer.complete) {
      this.logger.warn(
        !answer.usage
          ? 'Gemini reported usage that is not valid token counts: turn stored as unpriced, without counts'
          : cost.costStatus === 'estimated'
            ? `no price for model ${answer.modelVersion}, which answered for ${session.model}: turn priced at ${cost.pricedAs}'s rates (estimated)`
            : `no price for model ${answer.modelVersion ?? session.model}: turn stored as unpriced`,
      );
    }
    return {
      sessionId: session.id,
      userMessage: message,
      attachments,
      receivedAt,
      reply: answer.text,
      answeredAt,
      model: answer.modelVersion ? normaliseModel(answer.modelVersion) : session.model,
      usage: answer.usage,
      costNanoUsd: cost.costNanoUsd,
      costStatus: cost.costStatus,
      pricedAs: cost.pricedAs,
      context: sent.plan.context,
      finishReason: answer.finishReason,
      latencyMs: Math.round(upstreamMs),
    };
  }

  /**
   * The one place a paid call is settled — every call Gemini ran reaches it, answered or not:
   * its spend goes into the ledger and the day's total before the client hears anything.
   *
   * One transaction: what the turn holds settled, and the turn stored — or, when the call gave
   * no reply to store (`failure`: nothing but thinking, a SAFETY ending, a stream that broke),
   * its spend alone, and the failure thrown with what the call cost in its body. When the session
   * (or a new session's owner) was deleted while Gemini answered, a delete wins: the spend is
   * recorded, nothing of the conversation comes back (404). When the transaction fails, the
   * spend is recorded on its own all the same.
   */
  private async settle(
    turnId: string,
    turnSession: TurnSession,
    turn: NewTurn,
    title: string | null,
    holds: TurnHolds,
    failure: DomainError | null,
  ): Promise<TurnResult> {
    const { session } = turnSession;
    const spend = spendOf(turnId, session, turn);
    let stored: TurnResult | null;
    try {
      stored = await this.unitOfWork.commit(async (tx) => {
        await holds.releaseIn(tx);
        if (failure) {
          await tx.usage.record(spend);
          return null;
        }
        const result = await storeTurn(tx, turnSession, turn, { turnId, title });
        if (result) await holds.completeIn(tx, result);
        return result;
      });
    } catch (error) {
      await this.unitOfWork
        .commit(({ usage }) => usage.recordOnce(spend))
        .then(
          () => this.metrics.spendRecorded(spend),
          (ledgerError: unknown) => {
            this.metrics.spendUnrecorded();
            // The log is then the only record: everything the ledger line would have held, to enter by hand.
            this.logger.error(
              `turn ${turnId}: its spend could not be recorded: ${String(ledgerError)}; ` +
                `spend ${JSON.stringify({ ...spend, usage: usageToCounts(spend.usage) })}`,
            );
          },
        );
      throw failure ? failure.with(costBody(turn)) : error;
    }
    this.metrics.spendRecorded(spend);
    if (failure) throw failure.with(costBody(turn));
    if (!stored) throw turnSession.kind === 'draft' ? new UserNotFound(session.userId) : new SessionNotFound(session.id);
    return stored;
  }
}

/** The planned request with the files of its contents: the stored bytes inline, or a Files API URI (TurnFiles). */
async function withMedia({ request, plan }: PlannedRequest, files: TurnFiles): Promise<LlmRequest> {
  if (plan.attachments.every((attached) => attached.length === 0)) return request;
  const media = await files.mediaOf(plan.attachments);
  return { ...request, contents: request.contents.map((content, i) => (media[i] ? { ...content, media: media[i] } : content)) };
}

/** What a refused call cost, in its error body: the same fields as a model message. */
function costBody(turn: NewTurn): Record<string, unknown> {
  return {
    usage: turn.usage ? usageToJson(turn.usage) : null,
    cost_usd: nanoToUsd(turn.costNanoUsd),
    cost_status: turn.costStatus,
    priced_as: turn.pricedAs,
  };
}

/**
 * What a turn's Idempotency-Key stands for: its target and message, in the shape keys were
 * always hashed in, so a retry still matches its first attempt across an upgrade.
 */
function fingerprintOf(target: TurnTarget, message: string, attachments: readonly string[]): unknown {
  const turn =
    target.kind === 'session'
      ? { sessionId: target.sessionId }
      : { sessionId: target.kind === 'chat' ? target.sessionId : null, ownerId: target.ownerId };
  // Files are part of the turn only when there are some: a text turn hashes as it always did.
  return attachments.length === 0 ? { turn, message } : { turn, message, attachments };
}

const TITLE_LENGTH = 60;

/** The first message, on one line, cut at a word boundary near 60 characters. */
export function titleFrom(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  const chars = [...line];
  if (chars.length <= TITLE_LENGTH) return line;
  const cut = chars.slice(0, TITLE_LENGTH).join('');
  const atWord = cut.replace(/\s+\S*$/, '');
  return `${atWord.length >= TITLE_LENGTH / 2 ? atWord : cut}…`;
}
