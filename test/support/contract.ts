import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { NextFunction, Request, Response } from 'express';
import { appendFileSync } from 'node:fs';

/**
 * Every answer a test app sends, checked against the OpenAPI document that app serves: the
 * status is documented for the operation, the Content-Type is one of that status's, the body
 * validates against its schema (JSON bodies, and each frame of an event stream), the headers it
 * documents are there and well-formed, and none of the contract's headers is sent undocumented.
 * Checked on the server side of the socket, so whatever client a spec drives (supertest, fetch,
 * raw http) is covered; requests the suites make malformed at the transport level never reach
 * Express and are not answers of the API (skipped by construction). A test app's close() fails
 * with what drifted (test-app.ts), as it does for stored costs.
 */

type Json = Record<string, any>;
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Headers the contract names: sent on an answer, each must be documented for it. */
const CONTRACT_HEADERS = [
  'x-request-id',
  'retry-after',
  'idempotent-replayed',
  'content-disposition',
  'allow',
  'www-authenticate',
  'server-timing',
];
/** What the app serves besides the API: the page, its modules, the explorer and the document. */
const NOT_API = /^\/($|docs|vendor\/|[\w-]+\.(js|css|html|svg|ico|png)$|views\/)/;

interface Route {
  pattern: RegExp;
  item: Json;
  path: string;
}

export class ContractCheck {
  readonly violations: string[] = [];
  checked = 0;
  private readonly ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  private readonly compiled = new Map<unknown, ValidateFunction>();
  private readonly routes: Route[];

  constructor(private readonly document: Json) {
    this.ajv.addSchema({ $id: 'oas', components: { schemas: toJsonSchema(document.components.schemas) } });
    this.routes = Object.entries<Json>(document.paths).map(([path, item]) => ({
      path,
      item,
      pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}/?$`, 'i'), // Express routes ignore case
    }));
  }

  /** Express middleware: records what is written, checks it once the answer is done. */
  readonly middleware = (request: Request, response: Response, next: NextFunction): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > 8 * 1024 * 1024) return;
      const buffer = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      size += buffer.length;
      chunks.push(buffer);
    };
    const write = response.write.bind(response) as (...args: unknown[]) => boolean;
    const end = response.end.bind(response) as (...args: unknown[]) => Response;
    response.write = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return write(...args);
    }) as Response['write'];
    response.end = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return end(...args);
    }) as Response['end'];
    const path = request.path;
    const method = request.method.toLowerCase();
    response.once('close', () => {
      try {
        this.check(method, path, response, Buffer.concat(chunks));
      } catch (error) {
        this.violations.push(`${method.toUpperCase()} ${path}: the check failed: ${String(error)}`);
      }
    });
    next();
  };

  private check(method: string, path: string, response: Response, body: Buffer): void {
    if (method === 'options' || !response.headersSent) return;
    const where = `${method.toUpperCase()} ${path} → ${response.statusCode}`;
    const fail = (what: string): void => {
      this.violations.push(`${where}: ${what}`);
    };
    const route = this.routes.find(({ pattern }) => pattern.test(path));
    const mediaType = String(response.getHeader('content-type') ?? '')
      .split(';')[0]
      .trim();
    if (!route) {
      if (NOT_API.test(path)) return;
      // A path no template matches (unknown, or an empty segment: `/users//api-keys`) gets an error
      // body (404, 400, or the edge's 401, 413…); a success there is a route the document does not know.
      this.checked++;
      if (response.statusCode < 400) return fail(`no path of the document matches ${path}`);
      return this.checkBody(fail, mediaType, { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBodyDto' } } }, body, true);
    }
    this.checked++;
    const operation = route.item[method === 'head' ? 'get' : method] as Json | undefined;
    const spec: Json | undefined = operation
      ? operation.responses[String(response.statusCode)]
      : response.statusCode === 405
        ? this.document['x-method-not-allowed']
        : undefined;
    if (!spec) return fail(`status not documented for ${operation?.operationId ?? `${method.toUpperCase()} ${route.path}`}`);
    this.checkHeaders(fail, spec.headers ?? {}, response);
    if (method === 'head' || response.statusCode === 204 || response.statusCode === 304) return;
    this.checkBody(fail, mediaType, spec.content ?? {}, body, response.writableFinished);
  }

  private checkHeaders(fail: (what: string) => void, documented: Json, response: Response): void {
    const names = new Map(Object.keys(documented).map((name) => [name.toLowerCase(), name]));
    for (const [lower, name] of names) {
      const value = response.getHeader(lower);
      const header = this.resolve(documented[name]);
      if (value === undefined) {
        if (header.required) fail(`header ${name} is documented as required and was not sent`);
        continue;
      }
      const schema = header.schema ?? {};
      const text = String(value);
      const typed = schema.type === 'integer' && /^\d+$/.test(text) ? Number(text) : text;
      if (!this.validator(schema)(typed)) fail(`header ${name}: ${JSON.stringify(text)} does not match ${JSON.stringify(schema)}`);
    }
    for (const name of CONTRACT_HEADERS)
      if (response.getHeader(name) !== undefined && !names.has(name)) fail(`header ${name} is sent but not documented for this answer`);
  }

  private checkBody(fail: (what: string) => void, mediaType: string, content: Json, body: Buffer, finished: boolean): void {
    if (Object.keys(content).length === 0) {
      if (body.length > 0) fail(`a ${body.length}-byte ${mediaType || 'untyped'} body where none is documented`);
      return;
    }
    const media = content[mediaType] as Json | undefined;
    if (!media) return fail(`Content-Type ${mediaType || '(none)'} is not one of ${Object.keys(content).join(', ')}`);
    const schema = media.schema ?? {};
    let value: unknown;
    if (mediaType === 'application/json') {
      if (!finished) return; // the client went away mid-body
      try {
        value = JSON.parse(body.toString('utf8'));
      } catch {
        return fail('the body is not JSON');
      }
    } else if (mediaType === 'text/event-stream') value = eventFrames(body.toString('utf8'), fail);
    else if (schema.format === 'binary') return;
    else value = body.toString('utf8');
    const validate = this.validator(schema);
    if (!validate(value)) fail(`the body does not match its schema: ${this.ajv.errorsText(validate.errors, { dataVar: 'body' })}`);
  }

  private resolve(object: Json): Json {
    if (!object.$ref) return object;
    const [, section, name] = /^#\/components\/(\w+)\/(.+)$/.exec(object.$ref as string)!;
    return this.document.components[section][name] as Json;
  }

  private validator(schema: Json): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(schema) as Json);
      this.compiled.set(schema, validate);
    }
    return validate;
  }
}

/** The frames of an event stream: `{event, id?, retry?, data}` with data parsed as JSON. */
function eventFrames(text: string, fail: (what: string) => void): Json[] {
  const frames: Json[] = [];
  // A frame ends with a blank line; a last one without it was cut off (the client went away).
  for (const block of text.split('\n\n').slice(0, -1)) {
    const frame: Json = {};
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon === 0) continue; // a comment
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') {
        try {
          frame.data = JSON.parse(value);
        } catch {
          fail(`an event's data is not JSON: ${value.slice(0, 80)}`);
        }
      } else if (field === 'retry') frame.retry = Number(value);
      else if (field === 'event' || field === 'id') frame[field] = value;
      else fail(`an event stream line of an unknown field: ${line.slice(0, 80)}`);
    }
    // A `retry:` hint alone is a frame of its own, not an event.
    if (Object.keys(frame).length > 0 && !(Object.keys(frame).length === 1 && 'retry' in frame)) frames.push(frame);
  }
  return frames;
}

/** OpenAPI 3.0 schema → JSON Schema: `nullable` adds null to the type (and enum); refs point into the `oas` schema. */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema as Json)) {
    if (key === '$ref') out.$ref = `oas${value as string}`;
    else if (key === 'example' || key === 'nullable' || key === 'discriminator') continue;
    else if (key === 'properties')
      out.properties = Object.fromEntries(Object.entries<unknown>(value as Json).map(([k, v]) => [k, toJsonSchema(v)]));
    else out[key] = toJsonSchema(value);
  }
  if ((schema as Json).nullable === true && out.type) {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...(out.enum as unknown[]), null];
  }
  if (out.format === 'binary') delete out.format;
  return out;
}

/**
 * How many answers this run checked: each test app adds its count to the file scripts/jest.mjs
 * names (CONTRACT_COUNT_FILE), which prints the total when jest is done.
 */
export function recordContractCount(check: ContractCheck): void {
  const file = process.env.CONTRACT_COUNT_FILE;
  if (file) appendFileSync(file, `${check.checked}\n`);
}
