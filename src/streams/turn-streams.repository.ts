import type { EntityManager } from 'typeorm';
import { runSql, Sql } from '../database/sql.js';
import type { TurnEvent, TurnEventName, TurnState } from './turn-event.js';

/** A streamed turn as its row says. */
export interface StoredTurn {
  turnId: string;
  sessionId: string;
  userId: string;
  state: TurnState;
  createdAt: string;
  endedAt: string | null;
}

interface TurnRow {
  turn_id: string;
  session_id: string;
  user_id: string;
  state: TurnState;
  created_at: string;
  ended_at: string | null;
}

const OPEN = new Sql(
  `INSERT INTO turn_streams (turn_id, session_id, user_id, state, cancel_requested_at, created_at, ended_at)
   VALUES (:turnId, :sessionId, :userId, 'running', NULL, :createdAt, NULL)`,
);
const FIND = new Sql<TurnRow>('SELECT turn_id, session_id, user_id, state, created_at, ended_at FROM turn_streams WHERE turn_id = :turnId');
const EVENTS_AFTER = new Sql<{ seq: number | string; event: TurnEventName; data: string }>(
  'SELECT seq, event, data FROM turn_events WHERE turn_id = :turnId AND seq > :after ORDER BY seq LIMIT :limit',
);
const END = new Sql("UPDATE turn_streams SET state = :state, ended_at = :endedAt WHERE turn_id = :turnId AND state = 'running'");
/** The first request wins: its time stays. Only a running turn of that session is cancelled. */
const REQUEST_CANCEL = new Sql(
  `UPDATE turn_streams SET cancel_requested_at = COALESCE(cancel_requested_at, :at)
   WHERE turn_id = :turnId AND session_id = :sessionId AND state = 'running'`,
);
/** Over and past retention, or running far past any turn's longest run (its instance died): gone, with their events (cascade). */
const PRUNE = new Sql(
  `DELETE FROM turn_streams
   WHERE (ended_at IS NOT NULL AND ended_at < :endedBefore) OR (state = 'running' AND created_at < :startedBefore)`,
);

/** Rows per read of a turn's events: a whole reply is rarely more. */
export const EVENTS_PER_READ = 500;

/**
 * The statements of streamed turns: their rows (`turn_streams`) and their events (`turn_events`).
 * Written in batches — one INSERT a batch — by the instance running the turn; read by any.
 */
export class TurnStreamsRepository {
  constructor(private readonly manager: EntityManager) {}

  /** The turn's row, running, with its first events. */
  async open(turn: { turnId: string; sessionId: string; userId: string; createdAt: string }, events: readonly TurnEvent[]): Promise<void> {
    await OPEN.execute(this.manager, turn);
    await this.append(turn.turnId, events, turn.createdAt);
  }

  /** Events of a running turn, in one INSERT. */
  async append(turnId: string, events: readonly TurnEvent[], at: string): Promise<void> {
    if (events.length === 0) return;
    const parameters: Record<string, unknown> = { turnId, at };
    const rows = events.map((event, i) => {
      parameters[`s${i}`] = event.seq;
      parameters[`e${i}`] = event.event;
      parameters[`d${i}`] = JSON.stringify(event.data);
      return `(:turnId, :s${i}, :e${i}, :d${i}, :at)`;
    });
    await runSql(this.manager, `INSERT INTO turn_events (turn_id, seq, event, data, created_at) VALUES ${rows.join(', ')}`, parameters);
  }

  /** The turn's last events and its end, together: a reader that sees it ended finds them. */
  async end(turnId: string, state: Exclude<TurnState, 'running'>, events: readonly TurnEvent[], at: string): Promise<void> {
    await this.append(turnId, events, at);
    await END.execute(this.manager, { turnId, state, endedAt: at });
  }

  async find(turnId: string): Promise<StoredTurn | null> {
    const [row] = await FIND.rows(this.manager, { turnId });
    return row
      ? {
          turnId: row.turn_id,
          sessionId: row.session_id,
          userId: row.user_id,
          state: row.state,
          createdAt: row.created_at,
          endedAt: row.ended_at,
        }
      : null;
  }

  async eventsAfter(turnId: string, after: number): Promise<TurnEvent[]> {
    const rows = await EVENTS_AFTER.rows(this.manager, { turnId, after, limit: EVENTS_PER_READ });
    return rows.map((row) => ({ seq: Number(row.seq), event: row.event, data: JSON.parse(row.data) as unknown }));
  }

  /** Marks a running turn of the session to be cancelled; false when there is none such (over, unknown, another session's). */
  async requestCancel(sessionId: string, turnId: string, at: string): Promise<boolean> {
    return (await REQUEST_CANCEL.execute(this.manager, { sessionId, turnId, at })).affected > 0;
  }

  /** Of these running turns, those a cancel was asked for. */
  async cancelRequested(turnIds: readonly string[]): Promise<string[]> {
    if (turnIds.length === 0) return [];
    const parameters = Object.fromEntries(turnIds.map((id, i) => [`t${i}`, id]));
    const rows = await runSql<{ turn_id: string }[]>(
      this.manager,
      `SELECT turn_id FROM turn_streams WHERE cancel_requested_at IS NOT NULL AND turn_id IN (${turnIds.map((_, i) => `:t${i}`).join(', ')})`,
      parameters,
    );
    return rows.map((row) => row.turn_id);
  }

  /** The running turn of each of these sessions (one at most: turns of a session run one at a time), started after `startedAfter`. */
  async activeTurns(sessionIds: readonly string[], startedAfter: string): Promise<Map<string, string>> {
    if (sessionIds.length === 0) return new Map();
    const parameters: Record<string, unknown> = { startedAfter, ...Object.fromEntries(sessionIds.map((id, i) => [`s${i}`, id])) };
    const rows = await runSql<{ session_id: string; turn_id: string }[]>(
      this.manager,
      `SELECT session_id, turn_id FROM turn_streams
       WHERE state = 'running' AND created_at > :startedAfter AND session_id IN (${sessionIds.map((_, i) => `:s${i}`).join(', ')})
       ORDER BY created_at`,
      parameters,
    );
    return new Map(rows.map((row) => [row.session_id, row.turn_id]));
  }

  async prune(endedBefore: string, startedBefore: string): Promise<number> {
    return (await PRUNE.execute(this.manager, { endedBefore, startedBefore })).affected;
  }
}
