/** What a streamed turn sends, in order: `turn` first, `delta`s, then `done` or `error`. */
export type TurnEventName = 'turn' | 'delta' | 'done' | 'error';

export interface TurnEvent {
  /** 1, 2, 3… within the turn; the SSE id is `<turn_id>:<seq>`. */
  seq: number;
  event: TurnEventName;
  /** The event's JSON body. */
  data: unknown;
}

/** `running` until the turn is settled: `done` (answered, or cancelled and stored), `failed` (an `error` event), `cancelled` (stored as CANCELLED). */
export type TurnState = 'running' | 'done' | 'failed' | 'cancelled';

/** The last event of a turn: nothing follows it. */
export function isFinal(event: TurnEventName): boolean {
  return event === 'done' || event === 'error';
}

/** The SSE id of an event. */
export function eventIdOf(turnId: string, seq: number): string {
  return `${turnId}:${seq}`;
}

const EVENT_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(\d{1,9})$/i;

/** `<turn_id>:<seq>` read back; null when it is not one this service wrote. */
export function parseEventId(value: string): { turnId: string; seq: number } | null {
  const match = EVENT_ID.exec(value.trim());
  return match ? { turnId: match[1].toLowerCase(), seq: Number(match[2]) } : null;
}
