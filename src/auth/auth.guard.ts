import { Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ChatNotFound, Forbidden, UserNotFound, ValidationFailed } from '../common/errors.js';
import { ACTS_FOR, ADMIN_ONLY, adminOnlyRefusal, PUBLIC_ROUTE } from '../access/access.js';
import type { ActsForRule, AdminOnlyRule, RequestWithCaller } from '../access/access.js';
import { ApiKeysService } from './api-keys.service.js';
import { actsFor } from '../access/caller.js';
import type { Caller } from '../access/caller.js';

/**
 * Who is calling (a bearer key, once ADMIN_API_KEY is set; open mode otherwise) and whether the
 * route lets them: the access rules declared on routes (see access.ts) are checked here only.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithCaller>();
    const declared = <T>(key: string) => this.reflector.getAllAndOverride<T | undefined>(key, [context.getHandler(), context.getClass()]);
    if (declared<boolean>(PUBLIC_ROUTE)) return true;
    // A request with a body was authenticated before its body was read (common/request-bodies.ts).
    const caller = request.caller ?? (await this.authenticate(request));
    request.caller = caller;
    const actsForRule = declared<ActsForRule>(ACTS_FOR);
    if (actsForRule) checkActsFor(caller, actsForRule, request);
    const adminOnlyRule = declared<AdminOnlyRule>(ADMIN_ONLY);
    const refusal = adminOnlyRule && adminOnlyRefusal(caller, adminOnlyRule);
    if (refusal) throw new Forbidden(refusal);
    return true;
  }

  private authenticate(request: RequestWithCaller): Promise<Caller> {
    return this.keys.callerFor(request.headers.authorization);
  }
}

/**
 * Runs before validation. The field is checked wherever the request carries it (path, query and
 * body alike), so a second copy elsewhere cannot vouch for the one the route reads. A user key
 * naming it with anything but a string (`null` included, which validation reads as "absent") is
 * refused here.
 */
function checkActsFor(caller: Caller, { field, whenAbsent, notFound }: ActsForRule, request: RequestWithCaller): void {
  const params = request.params as Record<string, unknown>;
  const query = request.query as Record<string, unknown>;
  const body = isObject(request.body) ? request.body : undefined;
  const named = [params[field], query[field], body?.[field]].filter((value) => value !== undefined);
  if (named.length === 0 && caller.kind === 'user') {
    if (whenAbsent === 'admin-only') throw new Forbidden(`Only the admin key may leave out ${field}.`);
    // A body that is not an object (an array, a string) is left for validation to refuse.
    if (whenAbsent === 'own' && (body || request.body === undefined)) request.body = { ...body, [field]: caller.userId };
    return;
  }
  if (caller.kind === 'user' && named.some((value) => typeof value !== 'string')) {
    throw new ValidationFailed(`${field}: must be a user id`);
  }
  const foreign = named.find((value): value is string => typeof value === 'string' && !actsFor(caller, value));
  if (foreign === undefined) return;
  throw notFound === 'chat' ? new ChatNotFound(String(params.chat_id)) : new UserNotFound(foreign);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
