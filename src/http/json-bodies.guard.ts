import { Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { UnsupportedMediaType } from '../common/errors.js';
import { takesRawBody } from './request-bodies.js';

/**
 * A request with a body must say it is JSON (any charset): 415 otherwise — but for the raw-body
 * routes (request-bodies.ts), whose route judges the type itself. Runs after the
 * AuthGuard (a caller without a key learns 401 first). The JSON parser reads only JSON bodies,
 * so a refused body is never read.
 */
@Injectable()
export class JsonBodiesGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    if (takesRawBody(request)) return true;
    const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
    if (hasBody && !request.is('application/json')) throw new UnsupportedMediaType(request.headers['content-type']);
    return true;
  }
}
