import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from './metrics.js';

/**
 * Counts every HTTP answer once it is out (Metrics.answered): its route pattern and status, and
 * for an error body its code. Every error body of this service is JSON sent with `response.json`
 * — by the exception filter, the body gate, the Host and method checks, the serving gate — so
 * the code is read there, in one place, rather than at each of them.
 */
export function countAnswers(metrics: Metrics) {
  return (request: Request, response: Response, next: NextFunction): void => {
    let errorCode: string | null = null;
    const json = response.json.bind(response);
    response.json = (body: unknown) => {
      if (response.statusCode >= 400) errorCode = codeOf(body);
      return json(body);
    };
    response.on('close', () => {
      const route = (request.route as { path?: unknown } | undefined)?.path;
      // A client that left first got no status: the one set by then may be a default (Nest's 201).
      const status = response.writableFinished ? response.statusCode : 'aborted';
      metrics.answered(request.method, typeof route === 'string' ? route : null, status, errorCode);
    });
    next();
  };
}

function codeOf(body: unknown): string | null {
  const code = (body as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}
