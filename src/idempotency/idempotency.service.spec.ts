import { jest } from '@jest/globals';
import {
  DomainError,
  ErrorCode,
  IdempotencyInProgress,
  RateLimited,
  SessionNotFound,
  UpstreamError,
  UpstreamTimeout,
  UserExists,
} from '../common/errors.js';
import { createWorld, gate } from '../../test/support/unit-world.js';
import type { World } from '../../test/support/unit-world.js';
import { Heartbeat } from '../coordination/heartbeat.js';
import { IdempotencyService } from './idempotency.service.js';
import { readIdempotencyKey } from './idempotency-key.js';

const SCOPE = 'user:alice';
const HOUR_MS = 60 * 60 * 1000;

/** Work that must be called exactly as often as the test says; it answers with `value`. */
function work<T>(value: T) {
  return jest.fn(async () => value);
}

function failingWork(error: unknown) {
  return jest.fn(async (): Promise<never> => {
    throw error;
  });
}

function isoAgo(ms: number): string {
  return new Date(Date.now() - ms).toISOString();
}

/**
 * A request under `key` as the services make one: claim the key (or answer the first request's
 * outcome), run the work, then complete the claim in a transaction — or give it up when the work
 * fails. What it answers says whether the answer was marked a replay; so does a client error it
 * throws (`replayed`).
 */
async function run<T>(
  service: IdempotencyService,
  world: World,
  scope: string,
  key: string | undefined,
  fingerprint: unknown,
  task: () => Promise<T>,
) {
  const answer = { replayed: false };
  const request = { key, markReplayed: () => void (answer.replayed = true) };
  try {
    const claim = await service.claim<T>(scope, request, fingerprint, { userId: 'alice' });
    if (claim.replayed) return { value: claim.value, replayed: answer.replayed };
    try {
      const value = await task();
      await world.unitOfWork.commit((tx) => claim.hold.settleIn(tx, value));
      return { value, replayed: false };
    } catch (error) {
      await claim.hold.abandon(error);
      throw error;
    }
  } catch (error) {
    if (error instanceof DomainError) Object.assign(error, { replayed: answer.replayed });
    throw error;
  }
}

describe(IdempotencyService.name, () => {
  let world: World;

  beforeEach(async () => {
    world = await createWorld();
  });

  afterEach(async () => {
    await world.close();
  });

  /** Moves a record's created_at back in time, as if it had been written `ms` ago. */
  async function backdate(idempotencyKey: string, ms: number): Promise<void> {
    await world.dataSource.query('UPDATE idempotency_records SET created_at = ? WHERE scope = ? AND idempotency_key = ?', [
      isoAgo(ms),
      SCOPE,
      idempotencyKey,
    ]);
  }

  /** A first request under key k1 that has claimed it and runs until `finish()`. */
  async function runningFirst(value: string) {
    const firstDone = gate<void>();
    const started = gate<void>();
    const first = run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, async () => {
      started.open();
      await firstDone.promise;
      return value;
    });
    await started.promise;
    return { first, finish: () => firstDone.open() };
  }

  describe('claim', () => {
    it('just runs the work when there is no key, and stores nothing', async () => {
      const task = work({ n: 1 });

      await expect(run(world.idempotency, world, SCOPE, undefined, { a: 1 }, task)).resolves.toEqual({ value: { n: 1 }, replayed: false });
      await expect(run(world.idempotency, world, SCOPE, undefined, { a: 1 }, task)).resolves.toEqual({ value: { n: 1 }, replayed: false });
      expect(task).toHaveBeenCalledTimes(2);
      await expect(world.dataSource.query('SELECT COUNT(*) AS n FROM idempotency_records')).resolves.toEqual([{ n: 0 }]);
    });

    it('replays the first result for the same key and request, without running again', async () => {
      const first = work({ id: 'first', nested: { list: [1, 2] } });
      const second = work({ id: 'second', nested: { list: [] } });

      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, first)).resolves.toEqual({
        value: { id: 'first', nested: { list: [1, 2] } },
        replayed: false,
      });
      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, second)).resolves.toEqual({
        value: { id: 'first', nested: { list: [1, 2] } },
        replayed: true,
      });
      expect(first).toHaveBeenCalledTimes(1);
      expect(second).not.toHaveBeenCalled();
    });

    it('keeps keys apart per scope', async () => {
      const alice = work('alice');
      const bob = work('bob');

      await expect(run(world.idempotency, world, 'user:alice', 'k1', {}, alice)).resolves.toEqual({ value: 'alice', replayed: false });
      await expect(run(world.idempotency, world, 'user:bob', 'k1', {}, bob)).resolves.toEqual({ value: 'bob', replayed: false });
    });

    it('remembers a 4xx DomainError and throws it again, marked replayed', async () => {
      const failing = failingWork(new SessionNotFound('s-1'));
      const next = work('must not run');

      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, failing)).rejects.toMatchObject({
        code: ErrorCode.SESSION_NOT_FOUND,
        replayed: false,
      });
      const replay = run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, next);
      await expect(replay).rejects.toBeInstanceOf(DomainError);
      await expect(replay).rejects.toMatchObject({
        code: ErrorCode.SESSION_NOT_FOUND,
        message: 'Session "s-1" was not found.',
        replayed: true,
      });
      expect(failing).toHaveBeenCalledTimes(1);
      expect(next).not.toHaveBeenCalled();
    });

    it.each<[string, unknown]>([
      ['a 502 upstream error', new UpstreamError('x')],
      ['a 504 upstream timeout', new UpstreamTimeout('late')],
      ['a 409 conflict', new UserExists('alice')],
      ['a 409 in progress', new IdempotencyInProgress()],
      ['a 429 rate limit', new RateLimited(3, 60, 'turns')],
      ['an unknown error', new Error('boom')],
      ['a thrown string', 'boom'],
    ])('forgets %s, so the next request with the key runs', async (_what, error) => {
      const failing = failingWork(error);
      const retry = work('second time lucky');

      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, failing)).rejects.toBe(error);
      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, retry)).resolves.toEqual({
        value: 'second time lucky',
        replayed: false,
      });
      expect(retry).toHaveBeenCalledTimes(1);
    });

    it('refuses the key with another request with 422 IDEMPOTENCY_KEY_REUSED', async () => {
      const other = work('never');
      await run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, work('first'));

      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'something else' }, other)).rejects.toMatchObject({
        code: ErrorCode.IDEMPOTENCY_KEY_REUSED,
      });
      expect(other).not.toHaveBeenCalled();
    });

    it('refuses the key with another request with 422 even while the first runs', async () => {
      const firstDone = gate<void>();
      const first = run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, async () => {
        await firstDone.promise;
        return 'first';
      });
      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, work('x'))).rejects.toMatchObject({
        code: ErrorCode.IDEMPOTENCY_IN_PROGRESS,
      });

      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'other' }, work('x'))).rejects.toMatchObject({
        code: ErrorCode.IDEMPOTENCY_KEY_REUSED,
      });
      firstDone.open();
      await expect(first).resolves.toEqual({ value: 'first', replayed: false });
    });

    it('answers 409 IDEMPOTENCY_IN_PROGRESS with Retry-After while the first request runs', async () => {
      const second = work('never');
      const { first, finish } = await runningFirst('first');

      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, second)).rejects.toMatchObject({
        code: ErrorCode.IDEMPOTENCY_IN_PROGRESS,
        retryAfterSeconds: 1,
      });
      expect(second).not.toHaveBeenCalled();
      finish();
      await expect(first).resolves.toEqual({ value: 'first', replayed: false });
      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, second)).resolves.toEqual({ value: 'first', replayed: true });
    });

    it('takes over a running claim its instance stopped renewing (the instance died)', async () => {
      const key = { scope: SCOPE, idempotencyKey: 'k1' };
      await world.repositories.idempotency.insertRunning(
        key,
        'a hash of the dead request',
        isoAgo(5_000),
        'a-claim-of-a-dead-instance',
        Date.now() - 1,
      );
      const takeover = work('taken over');

      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, takeover)).resolves.toEqual({
        value: 'taken over',
        replayed: false,
      });
      expect(takeover).toHaveBeenCalledTimes(1);
      await expect(world.repositories.idempotency.find(key)).resolves.toMatchObject({
        state: 'done',
        responseStatus: null,
        responseBody: JSON.stringify('taken over'),
      });
    });

    it('takes over a running claim without an expiry (left by a release before claims were renewed)', async () => {
      const { first, finish } = await runningFirst('first');
      await world.dataSource.query('UPDATE idempotency_records SET expires_at = NULL');

      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, work('taken over'))).resolves.toEqual({
        value: 'taken over',
        replayed: false,
      });
      finish();
      await first;
    });

    it('never takes over a claim its instance keeps renewing, however long it runs (a turn may wait behind others)', async () => {
      const quick = await createWorld({ LEASE_TTL_MS: '1000' });
      try {
        const started = gate<void>();
        const firstDone = gate<void>();
        const first = run(quick.idempotency, quick, SCOPE, 'k1', { msg: 'hi' }, async () => {
          started.open();
          await firstDone.promise;
          return 'first';
        });
        await started.promise;
        await quick.dataSource.query('UPDATE idempotency_records SET created_at = ?', [isoAgo(HOUR_MS)]);
        // Two and a half lease lifetimes: without the heartbeat the claim would have expired.
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        const task = work('never');

        await expect(run(quick.idempotency, quick, SCOPE, 'k1', { msg: 'hi' }, task)).rejects.toMatchObject({
          code: ErrorCode.IDEMPOTENCY_IN_PROGRESS,
        });
        expect(task).not.toHaveBeenCalled();
        firstDone.open();
        await expect(first).resolves.toEqual({ value: 'first', replayed: false });
      } finally {
        await quick.close();
      }
    });

    it('leaves the record of a takeover alone when the claim it replaced settles late', async () => {
      // Another instance over the same database, after this one's claim expired (its heartbeat stalled).
      const other = new Heartbeat(world.unitOfWork, world.config);
      const otherInstance = new IdempotencyService(world.repositories.idempotency, world.unitOfWork, other);
      const { first, finish } = await runningFirst('late first');
      await world.dataSource.query('UPDATE idempotency_records SET expires_at = 0');

      await expect(run(otherInstance, world, SCOPE, 'k1', { msg: 'hi' }, work('taken over'))).resolves.toEqual({
        value: 'taken over',
        replayed: false,
      });
      finish();
      await expect(first).resolves.toEqual({ value: 'late first', replayed: false });

      await expect(world.repositories.idempotency.find({ scope: SCOPE, idempotencyKey: 'k1' })).resolves.toMatchObject({
        state: 'done',
        responseBody: JSON.stringify('taken over'),
      });
      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, work('never'))).resolves.toEqual({
        value: 'taken over',
        replayed: true,
      });
      await other.onModuleDestroy();
    });

    it('runs again after the done record expired (older than 24 h), even for another request', async () => {
      await run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, work('yesterday'));
      await backdate('k1', 24 * HOUR_MS + 1_000);
      const today = work('today');

      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'another' }, today)).resolves.toEqual({
        value: 'today',
        replayed: false,
      });
      expect(today).toHaveBeenCalledTimes(1);
    });

    it('still replays a done record just under 24 h old', async () => {
      await run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, work('earlier'));
      await backdate('k1', 23 * HOUR_MS);
      const again = work('never');

      await expect(run(world.idempotency, world, SCOPE, 'k1', { msg: 'hi' }, again)).resolves.toEqual({ value: 'earlier', replayed: true });
      expect(again).not.toHaveBeenCalled();
    });

    it('runs the work exactly once when many requests race for one key', async () => {
      const racers = 20;
      // The winner's work waits until every other racer has its answer (or a second run starts).
      const othersAnswered = gate<void>();
      let runs = 0;
      let answered = 0;
      const racing = Array.from({ length: racers }, () =>
        run(world.idempotency, world, SCOPE, 'race', { msg: 'hi' }, async () => {
          runs += 1;
          if (runs > 1) othersAnswered.open();
          await othersAnswered.promise;
          return { winner: true };
        }).finally(() => {
          answered += 1;
          if (answered === racers - 1) othersAnswered.open();
        }),
      );
      const raced = await Promise.allSettled(racing);
      // Requests arriving after the winner finished get its result.
      const later = await Promise.allSettled(
        Array.from({ length: 5 }, () => run(world.idempotency, world, SCOPE, 'race', { msg: 'hi' }, work({ winner: false }))),
      );

      expect(runs).toBe(1);
      const fresh = raced.filter((o) => o.status === 'fulfilled' && !o.value.replayed);
      expect(fresh).toEqual([{ status: 'fulfilled', value: { value: { winner: true }, replayed: false } }]);
      for (const outcome of raced) {
        if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: ErrorCode.IDEMPOTENCY_IN_PROGRESS });
        else expect(outcome.value.value).toEqual({ winner: true });
      }
      expect(later).toEqual(Array(5).fill({ status: 'fulfilled', value: { value: { winner: true }, replayed: true } }));
    });
  });
});

describe(readIdempotencyKey.name, () => {
  it.each([
    ['empty', ''],
    ['with a space', 'has space'],
    ['non-ASCII', 'clé'],
    ['too long', 'k'.repeat(256)],
    ['with a control character', 'a\nb'],
  ])('refuses a malformed key (%s) with VALIDATION_FAILED, before anything runs', (_why, key) => {
    expect(() => readIdempotencyKey(key)).toThrow(expect.objectContaining({ code: ErrorCode.VALIDATION_FAILED }));
  });

  it('takes a key of visible ASCII characters as it is, and no key as none', () => {
    expect(readIdempotencyKey('turn-1:a/b')).toBe('turn-1:a/b');
    expect(readIdempotencyKey(undefined)).toBeUndefined();
  });
});
