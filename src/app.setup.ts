import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { appConfig } from './config/app.config.js';
import type { AppConfig } from './config/app.config.js';
import { SwaggerModule } from '@nestjs/swagger';
import { existsSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiKeysService } from './auth/api-keys.service.js';
import { countAnswers } from './metrics/count-answers.js';
import { Metrics } from './metrics/metrics.js';
import { allowedHosts } from './http/allowed-hosts.js';
import { allowedMethods } from './http/allowed-methods.js';
import { ExpressAdapterWithServerOptions } from './http/http-server.js';
import { refuseCostlyJson } from './http/json-items.js';
import { bodyGate, takesRawBody } from './http/request-bodies.js';
import type { RawBodyRoute } from './http/request-bodies.js';
import { requestId } from './http/request-id.middleware.js';
import { NotReady } from './common/errors.js';
import { toErrorBody } from './common/http-exception.filter.js';
import { Readiness } from './health/readiness.js';
import { REPLAYED_HEADER } from './idempotency/idempotency-key.js';
import { apiDocument } from './openapi.js';

export const BODY_LIMIT_BYTES = 1024 * 1024;
/** How long the request line and headers may take to arrive. */
export const HEADERS_TIMEOUT_MS = 10_000;
/**
 * How often Node looks for connections past their headers or request timeout (its default is
 * 30 s): a connection that never finishes its headers is closed 10–11 s after it opened.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * The HTTP adapter both main.ts and the test apps create the app with: Express, on a Node server
 * made with the headers timeout and how often it is checked.
 */
export function createHttpAdapter(): ExpressAdapterWithServerOptions {
  return new ExpressAdapterWithServerOptions({
    headersTimeout: HEADERS_TIMEOUT_MS,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  });
}

/**
 * Options both main.ts and the test apps create the app with. Nest's own body parsers are off:
 * they would parse form bodies too (a cross-site form could post to an open-mode service);
 * configureApp registers the JSON one alone.
 */
export const APP_OPTIONS = { bodyParser: false } as const;
const PUBLIC_DIR = fileURLToPath(new URL('./web/public', import.meta.url));

/** What main.ts and the e2e tests both apply to the app, so tests see what users see. */
export function configureApp(app: NestExpressApplication): void {
  const document = apiDocument(app);
  const config = app.get<AppConfig>(appConfig.KEY);
  app.disable('x-powered-by');
  // Express would hash every JSON body for an ETag (a 1,000-message history is hundreds of KB)
  // that no client of this API sends back; the static page keeps its own.
  app.set('etag', false);
  app.use(securityHeaders());
  app.use(requestId);
  app.use(countAnswers(app.get(Metrics)));
  // A scraper addresses an instance by its IP, like a load balancer's probe; with a token, a
  // rebound page cannot present it, so the Host need not be checked.
  const anyHost = config.metricsToken === null ? HEALTH_CHECKS : [...HEALTH_CHECKS, METRICS];
  const hosts = allowedHosts({ openMode: config.adminApiKey === null, allowedHosts: config.allowedHosts, anyHost });
  if (hosts) app.use(hosts);
  app.use(servingGate(app.get(Readiness)));
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins,
      allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'Idempotency-Key', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'Server-Timing', REPLAYED_HEADER],
    });
  }
  // After CORS, so a cross-origin client sees the 405 rather than a CORS failure.
  app.use(allowedMethods(document));
  const keys = app.get(ApiKeysService);
  app.use(
    bodyGate({
      limitBytes: BODY_LIMIT_BYTES,
      rawBodies: rawBodyRoutes(config),
      timeoutMs: config.requestBodyTimeoutMs,
      callerFor: (header) => keys.callerFor(header),
    }),
  );
  // Nest's types leave out `verify` (it sets its own for `rawBody`, which this app does not ask
  // for), so the options go through a variable; the field-flood spec shows the hook runs.
  // A raw-body route's bytes are its own to read, whatever Content-Type they claim.
  const jsonOptions = {
    limit: BODY_LIMIT_BYTES,
    verify: refuseCostlyJson,
    type: (request: IncomingMessage) => !takesRawBody(request) && Boolean((request as Request).is('application/json')),
  };
  app.useBodyParser('json', jsonOptions);
  app.use(vendorFiles());
  app.useStaticAssets(PUBLIC_DIR, { index: 'index.html', fallthrough: true });
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

/**
 * The routes whose body is a file's raw bytes (any accepted media type) rather than JSON, each
 * with its limit: the one list of them (request-bodies.ts reads it).
 */
function rawBodyRoutes(config: AppConfig): RawBodyRoute[] {
  return [{ method: 'POST', path: '/files', limitBytes: config.fileMaxBytes }];
}

/**
 * The browser builds the page imports (web/public/markdown.js), served from node_modules as
 * installed: nothing to copy or keep in step, no CDN, so the page's CSP stays `script-src 'self'`.
 * Each is its package's own self-contained ESM build, found beside the entry `require` resolves
 * from this file, so src (jest) and dist (npm start) serve the same installed packages.
 */
const VENDOR_FILES: Record<string, [pkg: string, file: string]> = {
  '/vendor/marked.esm.js': ['marked', 'marked.esm.js'],
  // dompurify's `require` entry is its CommonJS build; the ESM one sits in the same folder.
  '/vendor/purify.es.mjs': ['dompurify', 'purify.es.mjs'],
};

function vendorFiles() {
  const require = createRequire(import.meta.url);
  const files = new Map(Object.entries(VENDOR_FILES).map(([url, [pkg, file]]) => [url, join(dirname(require.resolve(pkg)), file)]));
  // A page that cannot load its modules is broken: say so at start, not as a 404 in a browser.
  for (const path of files.values()) if (!existsSync(path)) throw new Error(`${path} is missing: the chat page needs it (npm ci)`);
  return (request: Request, response: Response, next: NextFunction) => {
    const path = files.get(request.path);
    if (!path || (request.method !== 'GET' && request.method !== 'HEAD')) return next();
    response.type('text/javascript');
    response.sendFile(path, (error) => error && next(error));
  };
}

/**
 * Listens at once, then migrates the database (requests get 503 NOT_READY meanwhile, and
 * /health/ready says so), then serves. main.ts and the test apps start alike.
 */
export async function listenAndMigrate(app: NestExpressApplication, port: number, host: string): Promise<void> {
  await app.listen(port, host);
  const server: Server = app.getHttpServer();
  // Headers trickled in for longer than HEADERS_TIMEOUT_MS are not a client worth waiting for
  // (slowloris: the server was made with that, createHttpAdapter); the body has its own limit
  // (bodyGate), this is the server's backstop behind it.
  server.requestTimeout = app.get<AppConfig>(appConfig.KEY).requestBodyTimeoutMs + HEADERS_TIMEOUT_MS;
  await app.get(Readiness).migrate();
}

/**
 * Liveness and readiness: answered while migrating or draining, and under any Host (a load
 * balancer probes an instance by its address; they carry no user data).
 */
const HEALTH_CHECKS = ['/health', '/health/ready'];
/** What an instance counts: read while it migrates or drains too (it reads no database). */
const METRICS = '/metrics';

/** While migrating or draining, every request but the health checks and metrics gets 503 NOT_READY with Retry-After. */
function servingGate(readiness: Readiness) {
  return (request: Request, response: Response, next: NextFunction) => {
    const phase = readiness.phase;
    if (phase === 'ready' || HEALTH_CHECKS.includes(request.path) || request.path === METRICS) return next();
    const { body, retryAfterSeconds } = toErrorBody(new NotReady(phase));
    response.setHeader('Retry-After', String(retryAfterSeconds));
    // Draining: this connection goes too, so its next request reaches another instance.
    if (phase === 'draining') response.setHeader('Connection', 'close');
    response.status(body.statusCode).json(body);
  };
}

/**
 * Helmet's headers everywhere. The page runs under a strict CSP (its script and styles are
 * files of its own); Swagger UI needs inline styles and data: images, so /docs gets those too.
 * API answers are per user and change with every turn: never cached unless a route says so.
 */
function securityHeaders() {
  const directives = {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    // blob: for the page's thumbnails of attached images, read with the tab's key (fetch → object URL).
    imgSrc: ["'self'", 'data:', 'blob:'],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    // Helmet's default would make a page served over plain HTTP (any host but localhost) fetch
    // its own scripts over https, where nothing answers. TLS belongs to the proxy in front.
    upgradeInsecureRequests: null,
  };
  const api = helmet({ contentSecurityPolicy: { directives } });
  const docs = helmet({ contentSecurityPolicy: { directives: { ...directives, styleSrc: ["'self'", "'unsafe-inline'"] } } });
  return (request: Request, response: Response, next: NextFunction) => {
    response.setHeader('Cache-Control', 'no-store');
    (request.path.startsWith('/docs') ? docs : api)(request, response, next);
  };
}
