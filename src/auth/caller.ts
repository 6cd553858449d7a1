import { createParamDecorator, SetMetadata } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { DomainError } from '../common/errors.js';

/**
 * Who is asking. `open`: no ADMIN_API_KEY is configured, anyone acts for anyone (as the
 * original services did). `admin`: the admin key, acts for any user. `user`: a user's key,
 * acts as that user only.
 */
export type Caller = { kind: 'open' } | { kind: 'admin' } | { kind: 'user'; userId: string; keyId: string };

export const OPEN_CALLER: Caller = { kind: 'open' };

export type RequestWithCaller = Request & { caller?: Caller };

export const CurrentCaller = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Caller =>
    context.switchToHttp().getRequest<RequestWithCaller>().caller ?? OPEN_CALLER,
);

export const IS_PUBLIC = 'isPublic';
/** Reachable without a key even when ADMIN_API_KEY is set. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export function actsFor(caller: Caller, userId: string): boolean {
  return caller.kind !== 'user' || caller.userId === userId;
}

/**
 * Refuses a user's key acting for someone else with the same 404 as a missing resource,
 * so a key never learns what exists beyond its own user.
 */
export function assertActsFor(caller: Caller, userId: string, notFound: () => DomainError): void {
  if (!actsFor(caller, userId)) throw notFound();
}

/** The user a request acts for: the one named, or the caller's own when none is named. */
export function ownUserId(caller: Caller, named: string | undefined): string | undefined {
  return caller.kind === 'user' ? (named ?? caller.userId) : named;
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
