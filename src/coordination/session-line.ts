import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { KeyedQueue } from './keyed-queue.js';
import { Heartbeat, DATABASE_NOW_MS } from './heartbeat.js';
import { hold, NOTHING_HELD } from './hold.js';
import type { Releasable } from './hold.js';

/** A turn's place in its session's line, taken on arrival. */
export interface SessionPlace {
  /** Runs the turn when every turn of the session before it is done, wherever it ran. */
  run<T>(turn: (lease: Releasable) => Promise<T>): Promise<T>;
  /** Gives the place up unused (or after `run`: no effect). */
  leave(): void;
}

/**
 * Turns of one session run one at a time, in arrival order, each seeing the ones before it.
 * One process (SQLite) needs only its own line per session; instances sharing PostgreSQL also
 * take the session's lease in the database (see LeasedSessionLine).
 */
export abstract class SessionLine {
  abstract enter(sessionId: string): SessionPlace;
}

export class InProcessSessionLine extends SessionLine {
  private readonly lines = new KeyedQueue();

  enter(sessionId: string): SessionPlace {
    const place = this.lines.enter(sessionId);
    return { run: (turn) => place.run(() => turn(NOTHING_HELD)), leave: () => place.leave() };
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
  private readonly lines = new KeyedQueue();

  constructor(
    private readonly dataSource: DataSource,
    private readonly instance: Heartbeat,
  ) {
    super();
  }

  enter(sessionId: string): SessionPlace {
    const place = this.lines.enter(sessionId);
    return { run: (turn) => place.run(() => this.underLease(sessionId, turn)), leave: () => place.leave() };
  }

  private async underLease<T>(sessionId: string, turn: (lease: Releasable) => Promise<T>): Promise<T> {
    const holder = randomUUID();
    const unhold = this.instance.hold('session_leases', holder);
    const lease = hold({
      inTransaction: async ({ coordination }) => {
        if (!(await coordination.releaseLease(sessionId, holder))) {
          // It expired (no heartbeat for LEASE_TTL_MS) and may be another's: the turn is stored anyway, it was paid for.
          this.logger.warn(`the lease on session ${sessionId} had expired before its turn was stored`);
        }
      },
      alone: async () => {
        await this.dataSource.query('DELETE FROM session_leases WHERE session_id = $1 AND holder = $2', [sessionId, holder]);
      },
      gone: unhold,
    });
    try {
      await this.acquire(sessionId, holder);
      return await turn(lease);
    } finally {
      await lease.release().catch((error: unknown) => {
        this.logger.warn(`could not release the lease on session ${sessionId} (it expires): ${String(error)}`);
      });
    }
  }

  private async acquire(sessionId: string, holder: string): Promise<void> {
    for (let wait = FIRST_RETRY_MS; ; wait = Math.min(LONGEST_RETRY_MS, wait * 2)) {
      const taken: unknown[] = await this.dataSource.query(
        `INSERT INTO session_leases (session_id, holder, expires_at)
         VALUES ($1, $2, ${this.instance.expiresAtSql})
         ON CONFLICT (session_id) DO UPDATE
           SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
           WHERE session_leases.expires_at < ${DATABASE_NOW_MS}
         RETURNING holder`,
        [sessionId, holder],
      );
      if (taken.length > 0) return;
      await sleep(wait * (0.5 + Math.random()));
    }
  }
}
