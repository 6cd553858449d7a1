/**
 * Who is asking. `open`: no ADMIN_API_KEY is configured, anyone acts for anyone (as the
 * original services did). `admin`: the admin key, acts for any user. `user`: a user's key,
 * acts as that user only.
 */
export type Caller = { kind: 'open' } | { kind: 'admin' } | { kind: 'user'; userId: string; keyId: string };

export const OPEN_CALLER: Caller = { kind: 'open' };

export function actsFor(caller: Caller, userId: string): boolean {
  return caller.kind !== 'user' || caller.userId === userId;
}

/** A stable name of the caller for rate limits and idempotency scopes. */
export function callerScope(caller: Caller, actingFor: string): string {
  switch (caller.kind) {
    case 'admin':
      return 'admin';
    case 'user':
      return `key:${caller.keyId}`;
    case 'open':
      return `user:${actingFor}`;
  }
}
