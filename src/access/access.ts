import { applyDecorators, createParamDecorator, SetMetadata } from '@nestjs/common';
import type { CustomDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { OPEN_CALLER } from './caller.js';
import type { Caller } from './caller.js';

export type RequestWithCaller = Request & { caller?: Caller };

/** The caller the AuthGuard established for this request. */
export const CurrentCaller = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Caller => context.switchToHttp().getRequest<RequestWithCaller>().caller ?? OPEN_CALLER,
);

/**
 * Who may call a route, declared on it and enforced by the AuthGuard alone:
 * - `@Public()`: no key needed even when ADMIN_API_KEY is set;
 * - `@ActsFor('user_id')`: the request names a user (path, query or body field) and a user key
 *   may only name its own. Any other name is answered with the same 404 as a user that does
 *   not exist, so a key learns nothing of what else exists;
 * - `@AdminOnly(…)`: only the admin key, 403 for user keys (and in open mode unless allowed).
 *   Checked after `@ActsFor`, so a key naming someone else's user still learns nothing (404).
 */
export const PUBLIC_ROUTE = 'access:public';
export const ACTS_FOR = 'access:actsFor';
export const ADMIN_ONLY = 'access:adminOnly';

export interface ActsForRule {
  field: string;
  /**
   * A user key that names no user: `own` acts for the key's user (the field is filled in);
   * `admin-only` is 403 (only the admin key may leave it out). Default: the DTO decides.
   */
  whenAbsent?: 'own' | 'admin-only';
  /** The 404 answered for someone else's user; default USER_NOT_FOUND. */
  notFound?: 'chat';
}

export interface AdminOnlyRule {
  /** What only the admin key does, for the 403 message: "issues API keys". */
  does: string;
  /** Open mode (no ADMIN_API_KEY) may do it too. */
  openMode: boolean;
}

/**
 * No key needed; on a controller, the OpenAPI document says so too (`security: []` on its
 * operations, through Swagger's own metadata key), so the explorer and generated clients send none.
 */
const SWAGGER_SECURITY = 'swagger/apiSecurity'; // @nestjs/swagger's DECORATORS.API_SECURITY
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(PUBLIC_ROUTE, true), SetMetadata(SWAGGER_SECURITY, []));

export const ActsFor = (field: string, options: Omit<ActsForRule, 'field'> = {}): CustomDecorator<string> =>
  SetMetadata(ACTS_FOR, { field, ...options } satisfies ActsForRule);

export const AdminOnly = (does: string, options: { openMode: boolean }): CustomDecorator<string> =>
  SetMetadata(ADMIN_ONLY, { does, ...options } satisfies AdminOnlyRule);

/** The 403 message for a caller an admin-only route refuses, or null when it may proceed. */
export function adminOnlyRefusal(caller: Caller, { does, openMode }: AdminOnlyRule): string | null {
  if (caller.kind === 'admin' || (caller.kind === 'open' && openMode)) return null;
  return caller.kind === 'open' ? `Only the admin key ${does}: set ADMIN_API_KEY and use it.` : `Only the admin key ${does}.`;
}
