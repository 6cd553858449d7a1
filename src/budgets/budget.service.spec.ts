import { jest } from '@jest/globals';
import { DomainError, ErrorCode } from '../common/errors.js';
import { usdToNano } from '../core/money.js';
import { promptUsage } from '../core/token-usage.js';
import { pricesAt } from '../models/model-table.js';
import { priceOf } from '../pricing/price.js';
import { createWorld, storeSession, storeTurn } from '../../test/support/unit-world.js';
import type { World } from '../../test/support/unit-world.js';
import { BudgetService } from './budget.service.js';
import type { CoordinationTx, Hold } from '../coordination/hold.js';

const MODEL = 'gemini-2.5-flash';
/** A prompt of 1,000 characters, no files. */
const PROMPT = promptUsage(1_000);

describe(BudgetService.name, () => {
  let world: World | undefined;

  async function setUp(env: Record<string, string> = {}): Promise<World> {
    world = await createWorld(env);
    return world;
  }

  /** What one turn of PROMPT reserves: the worst case under GEMINI_MAX_OUTPUT_TOKENS. */
  function worstCase(w: World, model = MODEL): number {
    return w.pricing.worstCaseNanoUsd(model, PROMPT, w.config.gemini.maxOutputTokens);
  }

  /** The worst case at one model's own rates (`alone`), or at the highest of it and the models it is rerouted to. */
  function worstCaseAt(w: World, model: string, rerouted = true): number {
    if (rerouted) return worstCase(w, model);
    const entry = w.models.find(model)!;
    return priceOf(pricesAt(entry, new Date()), { ...PROMPT, outputTokens: w.config.gemini.maxOutputTokens })!;
  }

  /** Alice has a session and spent `nano` today. */
  async function aliceSpent(w: World, nano: number, at?: string): Promise<void> {
    const session = await storeSession(w, { userId: 'alice' });
    if (nano > 0) await storeTurn(w, session.id, { costNanoUsd: nano, at });
  }

  afterEach(async () => {
    jest.restoreAllMocks();
    await world?.close();
    world = undefined;
  });

  describe('admit', () => {
    it('admits whatever was spent when there is no limit, and still writes the reservation before the call', async () => {
      const w = await setUp();
      await aliceSpent(w, 1_000_000_000_000);

      const release = await w.budget.admit('alice', null, MODEL, PROMPT);

      expect(await w.reservations.reservedFor('alice')).toBe(worstCase(w));
      await release.abandon(undefined);
      expect(await w.reservations.reservedFor('alice')).toBe(0);
    });

    it('reserves at the highest rates the turn could be priced at: a pricier model Google reroutes to', async () => {
      // gemini-2.0-flash is retired; Google answers with gemini-3.5-flash, at its far higher rates.
      const w = await setUp({ USER_DAILY_BUDGET_USD: '5' });
      const atReplacementRates = worstCaseAt(w, 'gemini-3.5-flash');
      expect(atReplacementRates).toBeGreaterThan(worstCaseAt(w, 'gemini-2.0-flash', false));

      await w.budget.admit('alice', null, 'gemini-2.0-flash', PROMPT);

      expect(await w.reservations.reservedFor('alice')).toBe(atReplacementRates);
    });

    it('frees a reservation once, however often release is called', async () => {
      const w = await setUp({ USER_DAILY_BUDGET_USD: '5' });
      const first = await w.budget.admit('alice', null, MODEL, PROMPT);
      await w.budget.admit('alice', null, MODEL, PROMPT);

      await first.abandon(undefined);
      await first.abandon(undefined);

      expect(await w.reservations.reservedFor('alice')).toBe(worstCase(w));
    });

    it('keeps reservations per user', async () => {
      const w = await setUp({ USER_DAILY_BUDGET_USD: '5' });

      await w.budget.admit('alice', null, MODEL, PROMPT);

      expect(await w.reservations.reservedFor('bob')).toBe(0);
    });

    it('overshoots the limit by less than one turn when turns are admitted concurrently', async () => {
      const w = await setUp({ USER_DAILY_BUDGET_USD: '0.1' });
      const limit = usdToNano('0.1')!;
      const perTurn = worstCase(w);
      const spent = 7_654_321;
      await aliceSpent(w, spent);

      const outcomes = await Promise.allSettled(Array.from({ length: 12 }, () => w.budget.admit('alice', null, MODEL, PROMPT)));

      const admitted = outcomes.filter((o): o is PromiseFulfilledResult<Hold<CoordinationTx>> => o.status === 'fulfilled');
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(admitted.length).toBe(Math.ceil((limit - spent) / perTurn));
      expect(refused.length).toBeGreaterThan(0);
      for (const { reason } of refused) expect(reason).toMatchObject({ code: ErrorCode.BUDGET_EXCEEDED });
      const committed = spent + (await w.reservations.reservedFor('alice'));
      expect(await w.reservations.reservedFor('alice')).toBe(admitted.length * perTurn);
      expect(committed).toBeGreaterThanOrEqual(limit);
      expect(committed - limit).toBeLessThan(perTurn);
    });

    it('admits again once the turns in flight released their reservations', async () => {
      const w = await setUp({ USER_DAILY_BUDGET_USD: '0.02' });
      const release = await w.budget.admit('alice', null, MODEL, PROMPT);
      expect(worstCase(w)).toBeGreaterThanOrEqual(usdToNano('0.02')!);
      // Refused for what is in flight, not for what is spent: worth a retry in seconds, not tomorrow.
      await expect(w.budget.admit('alice', null, MODEL, PROMPT)).rejects.toMatchObject({
        code: ErrorCode.BUDGET_EXCEEDED,
        retryAfterSeconds: 2,
        message: expect.stringContaining('turns still running'),
      });

      await release.abandon(undefined);

      await expect(w.budget.admit('alice', null, MODEL, PROMPT)).resolves.toMatchObject({ abandon: expect.any(Function) });
    });

    it.each([
      ['a minute before midnight', '2026-11-22T23:59:00.500Z', 60],
      ['just after midnight', '2026-11-22T00:00:01.000Z', 86_399],
      ['at noon', '2026-11-22T12:00:00.000Z', 43_200],
    ])('refuses with Retry-After in seconds to the next 00:00 UTC (%s)', async (_when, at, seconds) => {
      const w = await setUp({ USER_DAILY_BUDGET_USD: '0.001' });
      await aliceSpent(w, 1_000_000, at);
      jest.spyOn(Date, 'now').mockReturnValue(Date.parse(at));

      const refusal = w.budget.admit('alice', null, MODEL, PROMPT);

      await expect(refusal).rejects.toBeInstanceOf(DomainError);
      await expect(refusal).rejects.toMatchObject({ code: ErrorCode.BUDGET_EXCEEDED, retryAfterSeconds: seconds });
      expect(await w.reservations.reservedFor('alice')).toBe(0);
    });

    it("counts only today's spend (UTC)", async () => {
      const w = await setUp({ USER_DAILY_BUDGET_USD: '0.001' });
      await aliceSpent(w, 1_000_000, '2026-11-21T23:59:59.999Z');
      jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-11-22T00:00:00.000Z'));

      await expect(w.budget.admit('alice', null, MODEL, PROMPT)).resolves.toMatchObject({ abandon: expect.any(Function) });
    });

    it("lets a user's own limit win over a larger default", async () => {
      const w = await setUp({ USER_DAILY_BUDGET_USD: '100' });
      await aliceSpent(w, 5_000);

      await expect(w.budget.admit('alice', 5_000, MODEL, PROMPT)).rejects.toMatchObject({ code: ErrorCode.BUDGET_EXCEEDED });
    });

    it("lets a user's own limit win over a smaller default", async () => {
      const w = await setUp({ USER_DAILY_BUDGET_USD: '0.000005' });
      await aliceSpent(w, 5_000);

      await expect(w.budget.admit('alice', usdToNano(100), MODEL, PROMPT)).resolves.toMatchObject({ abandon: expect.any(Function) });
      expect(await w.reservations.reservedFor('alice')).toBe(worstCase(w));
    });

    it("enforces a user's own limit when there is no default", async () => {
      const w = await setUp();
      await aliceSpent(w, 5_000);

      await expect(w.budget.admit('alice', 5_000, MODEL, PROMPT)).rejects.toMatchObject({ code: ErrorCode.BUDGET_EXCEEDED });
    });

    it('refuses an unpriced model under a budget with MODEL_UNPRICED (what cannot be priced cannot be budgeted)', async () => {
      const w = await setUp({ USER_DAILY_BUDGET_USD: '5' });

      await expect(w.budget.admit('alice', null, 'gemini-unknown-model', PROMPT)).rejects.toMatchObject({
        code: ErrorCode.MODEL_UNPRICED,
      });
      expect(await w.reservations.reservedFor('alice')).toBe(0);
    });

    it('lets an unpriced model run for a user without a budget', async () => {
      const w = await setUp();
      await expect(w.budget.admit('alice', null, 'gemini-unknown-model', PROMPT)).resolves.toBeDefined();
      expect(await w.reservations.reservedFor('alice')).toBe(0);
    });
  });
});
