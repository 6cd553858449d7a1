import { Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Unauthorized } from '../common/errors.js';
import { ApiKeysService } from './api-keys.service.js';
import { IS_PUBLIC, OPEN_CALLER } from './caller.js';
import type { RequestWithCaller } from './caller.js';

/** Bearer-key authentication for every route but the public ones, once ADMIN_API_KEY is set. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithCaller>();
    if (!this.keys.enabled) {
      request.caller = OPEN_CALLER;
      return true;
    }
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new Unauthorized();
    const caller = await this.keys.authenticate(match[1]);
    if (!caller) throw new Unauthorized('The API key is not valid (unknown, revoked or mistyped).');
    request.caller = caller;
    return true;
  }
}
