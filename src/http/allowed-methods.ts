import type { OpenAPIObject } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { MethodNotAllowed } from '../common/errors.js';
import { toErrorBody } from '../common/http-exception.filter.js';

/** The keys of a path item that are operations (others are `parameters`, `x-…` extensions). */
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface KnownRoute {
  pattern: RegExp;
  methods: string[];
}

/**
 * A known route asked with a method it does not take is 405 METHOD_NOT_ALLOWED with `Allow`
 * (not the 404 of a route that does not exist). The routes and their methods are those of the
 * OpenAPI document, which describes every API route.
 */
export function allowedMethods(document: OpenAPIObject) {
  const routes: KnownRoute[] = Object.entries(document.paths).map(([path, operations]) => {
    const methods = Object.keys(operations)
      .filter((key) => HTTP_METHODS.includes(key))
      .map((method) => method.toUpperCase());
    const pattern = new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}/?$`);
    return { pattern, methods: methods.includes('GET') ? [...methods, 'HEAD'] : methods };
  });
  return (request: Request, response: Response, next: NextFunction): void => {
    if (request.method === 'OPTIONS') return next(); // CORS preflights
    const route = routes.find(({ pattern }) => pattern.test(request.path));
    if (!route || route.methods.includes(request.method)) return next();
    const { body } = toErrorBody(new MethodNotAllowed(request.method, route.methods));
    response.setHeader('Allow', route.methods.join(', '));
    response.status(body.statusCode).json(body);
  };
}
