import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../src/config/app.config.js';
import { storeTurn as writeTurn } from '../../src/chat/store-turn.js';
import { ClusterInstance } from '../../src/cluster/cluster-instance.js';
import { parseEnvironment } from '../../src/config/environment.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { migrate } from '../../src/database/migrate.js';
import { UnitOfWork } from '../../src/database/unit-of-work.js';
import { LlmClient } from '../../src/gemini/llm-client.js';
import type { LlmMode, LlmRequest, LlmResult } from '../../src/gemini/llm-client.js';
import { IdempotencyRepository } from '../../src/idempotency/idempotency.repository.js';
import { IdempotencyService } from '../../src/idempotency/idempotency.service.js';
import { InMemoryBudgetReservations } from '../../src/limits/budget-reservations.js';
import { BudgetService } from '../../src/limits/budget.service.js';
import { InMemoryRateLimiter } from '../../src/limits/rate-limiter.js';
import type { Message } from '../../src/messages/message.js';
import { SessionMessages } from '../../src/messages/session-messages.js';
import { MessagesRepository } from '../../src/messages/messages.repository.js';
import { ModelCatalog } from '../../src/pricing/model-catalog.js';
import { PricingService } from '../../src/pricing/pricing.service.js';
import { ZERO_USAGE } from '../../src/pricing/token-usage.js';
import type { TokenUsage } from '../../src/pricing/token-usage.js';
import type { Session } from '../../src/sessions/session.js';
import { SessionsRepository } from '../../src/sessions/sessions.repository.js';
import { SessionsService } from '../../src/sessions/sessions.service.js';
import type { NewSession } from '../../src/sessions/sessions.service.js';
import { UsageRepository } from '../../src/usage/usage.repository.js';
import { UsageService } from '../../src/usage/usage.service.js';
import { UsersRepository } from '../../src/users/users.repository.js';
import { UsersService } from '../../src/users/users.service.js';

/**
 * Unit-test wiring by hand over a real in-memory SQLite database, migrated:
 * the services as the app builds them, without Nest. Each world is private to one test.
 */

/** The configuration of a test: the environment given over an in-memory database. */
export function testConfig(env: Record<string, string> = {}): AppConfig {
  return parseEnvironment({ DATABASE_URL: 'sqlite::memory:', ...env });
}

export interface World {
  config: AppConfig;
  dataSource: DataSource;
  unitOfWork: UnitOfWork;
  /** This process as the heartbeat of its claims knows it. */
  instance: ClusterInstance;
  models: ModelCatalog;
  pricing: PricingService;
  repositories: {
    users: UsersRepository;
    sessions: SessionsRepository;
    messages: MessagesRepository;
    idempotency: IdempotencyRepository;
    usage: UsageRepository;
  };
  idempotency: IdempotencyService;
  sessions: SessionsService;
  /** The conversations cache the services read through. */
  sessionMessages: SessionMessages;
  users: UsersService;
  usage: UsageService;
  budget: BudgetService;
  close(): Promise<void>;
}

export async function createWorld(env: Record<string, string> = {}): Promise<World> {
  const config = testConfig(env);
  const dataSource = new DataSource(dataSourceOptions({ kind: 'sqlite', path: ':memory:' }));
  await dataSource.initialize();
  await migrate(dataSource);
  const manager = dataSource.manager;
  const unitOfWork = new UnitOfWork(dataSource);
  const models = new ModelCatalog(config);
  const pricing = new PricingService(models);
  const repositories = {
    users: new UsersRepository(manager),
    sessions: new SessionsRepository(manager),
    messages: new MessagesRepository(manager),
    idempotency: new IdempotencyRepository(manager),
    usage: new UsageRepository(manager),
  };
  const instance = new ClusterInstance(unitOfWork, config);
  const idempotency = new IdempotencyService(repositories.idempotency, unitOfWork, instance);
  // Every conversation kept, however short: what the cache does shows in few messages.
  const sessionMessages = new SessionMessages(repositories.messages, 0);
  const sessions = new SessionsService(repositories.sessions, repositories.messages, sessionMessages, idempotency, unitOfWork, config);
  const users = new UsersService(repositories.users, unitOfWork);
  const usage = new UsageService(repositories.usage, users);
  const budget = new BudgetService(config, pricing, new InMemoryBudgetReservations(dataSource));
  return {
    config,
    dataSource,
    unitOfWork,
    instance,
    models,
    pricing,
    repositories,
    idempotency,
    sessions,
    sessionMessages,
    users,
    usage,
    budget,
    close: async () => {
      await instance.onModuleDestroy();
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}

/** Token usage: zero but for the overrides. */
export function aUsage(overrides: Partial<TokenUsage> = {}): TokenUsage {
  return { ...ZERO_USAGE, promptTokens: 12, outputTokens: 34, totalTokens: 46, ...overrides };
}

/** What the model answers: a priced default, overridable field by field. */
export function anLlmResult(overrides: Partial<LlmResult> = {}): LlmResult {
  return { text: 'Hi there.', usage: aUsage(), finishReason: 'STOP', modelVersion: 'gemini-2.5-flash', ...overrides };
}

/** Stores a session (and its user) as POST /sessions would. */
export async function storeSession(world: World, input: NewSession = {}): Promise<Session> {
  const session = world.sessions.draft({ userId: 'alice', ...input });
  await world.unitOfWork.run((repositories) => world.sessions.insert(repositories, session));
  return session;
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
  return world.unitOfWork.run(async (repositories) => {
    const session = await repositories.sessions.findById(sessionId);
    if (!session) throw new Error(`no session ${sessionId}`);
    // Sent with the whole history, as every turn that fits.
    const [first] = await repositories.messages.page(sessionId, 1, null);
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
      context: { messages: session.totals.messageCount, firstMessageId: first?.id ?? null, truncated: false },
      finishReason: 'STOP',
      latencyMs: 5,
    };
    const stored = await writeTurn(repositories, session, turn, { turnId: randomUUID(), isNew: false, ownerExisted: true, title: null });
    return [stored!.userMessage, stored!.modelMessage];
  });
}

type Answer = (request: LlmRequest) => Promise<LlmResult>;

/**
 * An LlmClient that answers only what the test scripted, in order. Any other call is refused
 * (its promise rejects) and recorded in `unexpected`, which the spec checks after each test.
 */
export class ScriptedLlm extends LlmClient {
  readonly mode: LlmMode = 'emulator';
  readonly requests: LlmRequest[] = [];
  readonly unexpected: string[] = [];
  private readonly answers: Answer[] = [];
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  /** The next call answers with this result, or by calling this function. */
  answer(result: LlmResult | Answer): this {
    this.answers.push(typeof result === 'function' ? result : async () => result);
    return this;
  }

  /** The next call fails with this error. */
  fail(error: unknown): this {
    this.answers.push(async () => {
      throw error;
    });
    return this;
  }

  /** Resolves once `count` calls have been received. */
  called(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  generate(request: LlmRequest): Promise<LlmResult> {
    return this.next('generate', request);
  }

  /** Counting is not scripted: a spec whose prompts stay under every limit never counts. */
  countTokens(request: LlmRequest): Promise<number> {
    this.unexpected.push(`countTokens(${JSON.stringify(request.contents.at(-1))})`);
    return Promise.reject(new Error('ScriptedLlm: unexpected countTokens call'));
  }

  stream(request: LlmRequest, onDelta: (text: string) => void): Promise<LlmResult> {
    return this.next('stream', request).then((result) => {
      onDelta(result.text);
      return result;
    });
  }

  private next(method: string, request: LlmRequest): Promise<LlmResult> {
    const answer = this.answers.shift();
    if (!answer) {
      this.unexpected.push(`${method}(${JSON.stringify(request.contents.at(-1))})`);
      return Promise.reject(new Error(`ScriptedLlm: unexpected ${method} call`));
    }
    this.requests.push(structuredClone(request));
    for (const waiter of this.waiters.filter((w) => this.requests.length >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    return answer(request);
  }
}

/** A rate limiter that also says when it has counted `count` turns (a turn is then queued). */
export class ObservedRateLimiter extends InMemoryRateLimiter {
  private taken = 0;
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  override async take(scope: string, now?: number): Promise<void> {
    await super.take(scope, now);
    this.taken += 1;
    for (const waiter of this.waiters.filter((w) => this.taken >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  takenTimes(count: number): Promise<void> {
    if (this.taken >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}

/** A promise with its resolve at hand. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
