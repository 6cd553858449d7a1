import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoordinationRepository } from './coordination.repository.js';
import type { Heartbeat } from './heartbeat.js';
import { releasableHold, NOTHING_HELD } from './hold.js';
import type { CoordinationTx, Hold } from './hold.js';
import { KeyedQueue } from './keyed-queue.js';

/** A turn's place in its session's line, taken on arrival. */
export interface SessionPlace {
  /**
   * Resolves when every earlier turn of the session is done, wherever it ran: the session is this
   * turn's now. What it holds for that (on PostgreSQL, the session's lease) is settled with the
   * turn's transaction.
   */
  waitForTurn(): Promise<Hold<CoordinationTx>>;
  /** Out of the line, whether the turn ran or not; those behind move up. Call it once the turn is settled or given up. */
  leave(): void;
}

/**
 * Turns of one session run one at a time, in arrival order, each seeing the ones before it. Each
 * process keeps its own line per session; one process (SQLite) needs nothing more, instances
 * sharing PostgreSQL also take the session's lease in the database (LeasedSessionLine).
 */
export abstract class SessionLine {
  private readonly lines = new KeyedQueue();

  enter(sessionId: string): SessionPlace {
    const place = this.lines.enter(sessionId);
    return {
      waitForTurn: async () => {
        await place.reached;
        return this.claimSession(sessionId);
      },
      leave: () => place.leave(),
    };
  }

  /** Once the turns of this process ahead are done: what makes the session this turn's beyond it. */
  protected abstract claimSession(sessionId: string): Promise<Hold<CoordinationTx>>;
}

export class InProcessSessionLine extends SessionLine {
  protected async claimSession(): Promise<Hold<CoordinationTx>> {
    return NOTHING_HELD;
  }
}

const FIRST_RETRY_MS = 5;
const LONGEST_RETRY_MS = 100;

/**
 * The session's lease is a row of `session_leases`: taken with one statement that succeeds
 * when there is no row or the row has expired, released in the transaction that stores the
 * turn (so the next holder reads the history with it). Waiting is polling, with backoff: no
 * connection is held while waiting or while Gemini answers. The instance's heartbeat renews its
 * leases; a dead instance's expire after LEASE_TTL_MS. Turns of one instance queue in its own
 * line first, so each instance asks for a session's lease once at a time.
 */
export class LeasedSessionLine extends SessionLine {
  private readonly logger = new Logger(LeasedSessionLine.name);

  constructor(
    private readonly coordination: CoordinationRepository,
    private readonly heartbeat: Heartbeat,
  ) {
    super();
  }

  /** The session's lease, taken once no other instance holds it. */
  protected async claimSession(sessionId: string): Promise<Hold<CoordinationTx>> {
    const holder = randomUUID();
    const lease = releasableHold({
      what: `the lease on session ${sessionId}`,
      releaseIn: async (coordination) => {
        if (!(await coordination.releaseLease(sessionId, holder))) {
          // It expired (no heartbeat for LEASE_TTL_MS) and may be another's: the turn is stored anyway, it was paid for.
          this.logger.warn(`the lease on session ${sessionId} had expired before its turn was stored`);
        }
      },
      releaseAlone: async () => void (await this.coordination.releaseLease(sessionId, holder)),
      gone: this.heartbeat.keepAlive('session_leases', holder),
    });
    try {
      let wait = FIRST_RETRY_MS;
      while (!(await this.coordination.takeLease(sessionId, holder, this.heartbeat.leaseTtlMs))) {
        await sleep(wait * (0.5 + Math.random()));
        wait = Math.min(LONGEST_RETRY_MS, wait * 2);
      }
    } catch (error) {
      await lease.abandon(error);
      throw error;
    }
    return lease;
  }
}
