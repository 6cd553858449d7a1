import { Test } from '@nestjs/testing';
import type { TestingModule, TestingModuleBuilder } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module.js';
import { OPEN_CALLER } from '../../src/access/caller.js';
import { BudgetService } from '../../src/budgets/budget.service.js';
import { appConfig } from '../../src/config/app.config.js';
import type { AppConfig } from '../../src/config/app.config.js';
import { parseEnvironment } from '../../src/config/environment.js';
import { CoordinationRepository } from '../../src/coordination/coordination.repository.js';
import { Heartbeat } from '../../src/coordination/heartbeat.js';
import { RateLimiter } from '../../src/coordination/rate-limiter.js';
import { ZERO_USAGE } from '../../src/core/token-usage.js';
import type { TokenUsage } from '../../src/core/token-usage.js';
import { Migrations } from '../../src/database/migrate.js';
import { GEMINI_ENDPOINT } from '../../src/gemini/gemini-endpoint.js';
import type { GeminiEndpoint } from '../../src/gemini/gemini-endpoint.js';
import { LlmClient } from '../../src/gemini/llm-client.js';
import type { LlmResult } from '../../src/gemini/llm-client.js';
import { WITHOUT_KEY } from '../../src/idempotency/idempotency-key.js';
import { IdempotencyRepository } from '../../src/idempotency/idempotency.repository.js';
import { IdempotencyService } from '../../src/idempotency/idempotency.service.js';
import { ConversationCache } from '../../src/messages/conversation-cache.js';
import type { Message } from '../../src/messages/message.js';
import { MessagesRepository } from '../../src/messages/messages.repository.js';
import { MessagesService } from '../../src/messages/messages.service.js';
import { ModelCatalog } from '../../src/models/model-catalog.js';
import { UnitOfWork } from '../../src/database/unit-of-work.js';
import type { Repositories } from '../../src/persistence.js';
import { PricingService } from '../../src/pricing/pricing.service.js';
import type { Session } from '../../src/sessions/session.js';
import { SessionsRepository } from '../../src/sessions/sessions.repository.js';
import { SessionsService } from '../../src/sessions/sessions.service.js';
import type { NewSession } from '../../src/sessions/sessions.service.js';
import { storeTurn as writeTurn } from '../../src/turns/store-turn.js';
import { TurnService } from '../../src/turns/turn.service.js';
import { UsageRepository } from '../../src/usage/usage.repository.js';
import { UsersService } from '../../src/users/users.service.js';
import { ObservedRateLimiter } from './fakes/observed-rate-limiter.js';
import { ScriptedLlm } from './fakes/scripted-llm.js';

/**
 * The services of the app as AppModule builds them — the real modules, compiled by Nest — over a
 * real in-memory SQLite database, migrated, with what reaches outside the process replaced:
 * Gemini is a ScriptedLlm (strict: an unscripted call fails the test), and the rate limiter and
 * budget reservations are the in-process ones, observable. Each world is private to one test.
 */

/** The configuration of a test: the environment given over an in-memory database. */
export function testConfig(env: Record<string, string> = {}): AppConfig {
  return parseEnvironment({ DATABASE_URL: 'sqlite::memory:', ...env });
}

/** An endpoint that is never called: the ScriptedLlm answers in its place. */
const NO_ENDPOINT: GeminiEndpoint = { mode: 'emulator', apiKey: 'unit', baseUrl: 'http://127.0.0.1:9', close: async () => undefined };

export interface World {
  config: AppConfig;
  module: TestingModule;
  dataSource: DataSource;
  /** The unit of work of every repository, as the app binds it. */
  unitOfWork: UnitOfWork<Repositories>;
  /** This process as the heartbeat of its claims knows it. */
  heartbeat: Heartbeat;
  models: ModelCatalog;
  pricing: PricingService;
  /** Repositories on the database outside any transaction, for what a spec checks. */
  repositories: {
    sessions: SessionsRepository;
    messages: MessagesRepository;
    idempotency: IdempotencyRepository;
    usage: UsageRepository;
  };
  llm: ScriptedLlm;
  rateLimiter: ObservedRateLimiter;
  /** The budget reservations of turns in flight, as stored. */
  reservations: { reservedFor(userId: string): Promise<number> };
  idempotency: IdempotencyService;
  sessions: SessionsService;
  /** The conversations cache the services read through (keeping every conversation, however short). */
  conversations: ConversationCache;
  users: UsersService;
  budget: BudgetService;
  turns: TurnService;
  close(): Promise<void>;
}

export interface WorldOptions {
  /** Further replacements, for what a spec watches. */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

export async function createWorld(env: Record<string, string> = {}, options: WorldOptions = {}): Promise<World> {
  const config = testConfig(env);
  const llm = new ScriptedLlm();
  const rateLimiter = new ObservedRateLimiter(config.rateLimitPerMinute);
  let builder = Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(appConfig.KEY)
    .useValue(config)
    .overrideProvider(GEMINI_ENDPOINT)
    .useValue(NO_ENDPOINT)
    .overrideProvider(LlmClient)
    .useValue(llm)
    .overrideProvider(RateLimiter)
    .useValue(rateLimiter)
    // Every conversation kept, however short: what the cache does shows in few messages.
    .overrideProvider(ConversationCache)
    .useFactory({ factory: (messages: MessagesRepository) => new ConversationCache(messages, 0), inject: [MessagesRepository] });
  if (options.override) builder = options.override(builder);
  const module = await builder.compile();
  await module.init();
  const get = <T>(token: abstract new (...args: never[]) => T): T => module.get(token, { strict: false });
  await get(Migrations).apply();
  return {
    config,
    module,
    dataSource: module.get<DataSource>(getDataSourceToken()),
    unitOfWork: get<UnitOfWork<Repositories>>(UnitOfWork),
    heartbeat: get(Heartbeat),
    models: get(ModelCatalog),
    pricing: get(PricingService),
    repositories: {
      sessions: get(SessionsRepository),
      messages: get(MessagesRepository),
      idempotency: get(IdempotencyRepository),
      usage: get(UsageRepository),
    },
    llm,
    rateLimiter,
    reservations: { reservedFor: (userId) => get(CoordinationRepository).reservedBy(userId) },
    idempotency: get(IdempotencyService),
    sessions: get(SessionsService),
    conversations: get(ConversationCache),
    users: get(UsersService),
    budget: get(BudgetService),
    turns: get(TurnService),
    close: () => module.close(),
  };
}

/** Token usage: zero but for the overrides. */
export function aUsage(overrides: Partial<TokenUsage> = {}): TokenUsage {
  return { ...ZERO_USAGE, promptTokens: 12, outputTokens: 34, totalTokens: 46, ...overrides };
}

/** What the model answers: a priced default, overridable field by field. */
export function anLlmResult(overrides: Partial<LlmResult> = {}): LlmResult {
  return {
    text: 'Hi there.',
    usage: aUsage(),
    finishReason: 'STOP',
    modelVersion: 'gemini-2.5-flash',
    modelVersionRejected: false,
    failure: null,
    complete: true,
    ...overrides,
  };
}

/** Stores a session (and its user) as POST /sessions does. */
export function storeSession(world: World, input: NewSession = {}): Promise<Session> {
  return world.sessions.create(OPEN_CALLER, { userId: 'alice', ...input }, WITHOUT_KEY);
}

/** The stored session, as a turn reads it. */
export async function sessionOf(world: World, sessionId: string): Promise<Session | undefined> {
  return (await world.repositories.sessions.findWithOwner(sessionId))?.session;
}

/** Every stored message of a session, in order. */
export function messagesOf(world: World, sessionId: string): Promise<Message[]> {
  return world.module.get(MessagesService, { strict: false }).page(sessionId, 1_000_000, null);
}

export interface StoredTurnInput {
  userMessage?: string;
  reply?: string;
  costNanoUsd?: number | null;
  usage?: TokenUsage;
  /** When the turn was stored (ISO-8601); now by default. */
  at?: string;
}

/** Stores one turn (spend line, session totals, both rows) in a session, as a successful turn does. */
export async function storeTurn(world: World, sessionId: string, input: StoredTurnInput = {}): Promise<[Message, Message]> {
  const at = input.at ?? new Date().toISOString();
  const costNanoUsd = input.costNanoUsd === undefined ? 1_000 : input.costNanoUsd;
  return world.unitOfWork.commit(async (tx) => {
    const found = await tx.sessions.findWithOwner(sessionId);
    if (!found) throw new Error(`no session ${sessionId}`);
    // Sent with the whole history, as every turn that fits.
    const [first] = await tx.messages.page(sessionId, 1, null);
    const turn = {
      sessionId,
      userMessage: input.userMessage ?? 'Hello',
      receivedAt: at,
      reply: input.reply ?? 'Hi!',
      answeredAt: at,
      model: 'gemini-2.5-flash',
      usage: input.usage ?? aUsage(),
      costNanoUsd,
      costStatus: costNanoUsd === null ? ('unpriced' as const) : ('priced' as const),
      pricedAs: costNanoUsd === null ? null : 'gemini-2.5-flash',
      context: { messages: found.session.totals.messageCount, firstMessageId: first?.id ?? null, truncated: false },
      finishReason: 'STOP',
      latencyMs: 5,
      attachments: [],
    };
    const stored = await writeTurn(tx, { kind: 'stored', ...found }, turn, { turnId: randomUUID(), title: null });
    return [stored!.userMessage, stored!.modelMessage];
  });
}

/** A promise with its resolve at hand. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
