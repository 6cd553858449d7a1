/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-explicit-any --
   the document is plain JSON, walked and finished by its shape (OpenAPI 3.0.3), not by a type of ours */
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * The OpenAPI document (`/docs-json`, committed as docs/openapi.json): what the controllers and
 * DTOs declare, finished here with what the HTTP edge adds to every answer (src/http/, the
 * serving gate, the exception filter) — statuses, headers, the event stream of a turn — which no
 * controller sees. OpenAPI 3.0.3: a nullable object is `oneOf: [{$ref}, {type: object,
 * nullable: true, enum: [null]}]`, the one form that accepts null under the 3.0.3 reading of
 * `nullable` (it needs a `type` beside it) in every validator; docs/api.md#the-openapi-document.
 */
export function apiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setOpenAPIVersion('3.0.3')
    .setTitle('gemini-chat-api')
    .setDescription(
      'Chat with Google Gemini through stored sessions. Every reply reports its tokens and exact cost in US dollars; ' +
        'sessions report what they have cost so far. Try it: POST /sessions, then POST /sessions/{id}/messages.\n\n' +
        'Every answer carries `X-Request-Id`. A known path asked with a method it does not take is 405 METHOD_NOT_ALLOWED ' +
        'with `Allow` (`x-method-not-allowed`).',
    )
    .setVersion('0.1.0')
    .setLicense('UNLICENSED', '')
    .addServer('/', 'This service')
    // Needed only when ADMIN_API_KEY is set: "Authorize" in the explorer takes the key.
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'API key',
      description: 'ADMIN_API_KEY, or a user key from POST /users/{user_id}/api-keys (opaque, `gca_…`). Not needed in open mode.',
    })
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, for GET /metrics when it is set.' }, 'metricsToken')
    .addSecurityRequirements('bearer');
  for (const [name, description] of Object.entries(TAGS)) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory: (controller, method) => OPERATION_IDS[`${controller}.${method}`] ?? method,
  });
  return finishDocument(document);
}

const TAGS: Record<string, string> = {
  sessions: 'Stored conversations: start one, send messages (JSON or streamed), read, page, export, estimate.',
  files: 'Files users upload (raw bytes), attached to turns by id.',
  users: 'Users, their daily budgets, API keys and usage reports.',
  'chat (original API)': 'The per-user /chat and /history API of the original service, kept byte-compatible.',
  access: 'Who the presented key acts for.',
  service: 'Health, readiness and the model table.',
  operations: 'Prometheus metrics, when METRICS_ENABLED=true.',
};

/** The one list of operation ids, by controller and method: names a client author would write. */
const OPERATION_IDS: Record<string, string> = {
  'SessionsController.create': 'createSession',
  'SessionsController.list': 'listSessions',
  'SessionsController.get': 'getSession',
  'SessionsController.update': 'updateSession',
  'SessionsController.remove': 'deleteSession',
  'SessionsController.history': 'getHistory',
  'SessionsController.messagesPage': 'listMessages',
  'SessionsController.export': 'exportSession',
  'TurnsController.send': 'sendMessage',
  'TurnsController.estimate': 'estimateTurn',
  'TurnsController.events': 'getTurnEvents',
  'TurnsController.cancel': 'cancelTurn',
  'FilesController.upload': 'uploadFile',
  'FilesController.list': 'listFiles',
  'FilesController.get': 'getFile',
  'FilesController.content': 'downloadFile',
  'FilesController.remove': 'deleteFile',
  'ChatController.chat': 'chat',
  'ChatController.list': 'listChats',
  'ChatController.history': 'getChatHistory',
  'UsersController.create': 'createUser',
  'UsersController.get': 'getUser',
  'UsersController.update': 'updateUser',
  'UsersController.remove': 'deleteUser',
  'ApiKeysController.issue': 'issueApiKey',
  'ApiKeysController.revoke': 'revokeApiKey',
  'UsageController.report': 'getUsage',
  'ModelsController.list': 'listModels',
  'HealthController.check': 'health',
  'HealthController.ready': 'readiness',
  'MetricsController.scrape': 'getMetrics',
  'MeController.me': 'me',
};

type Json = Record<string, any>;

const ERROR_BODY = '#/components/schemas/ErrorBodyDto';
const header = (name: string) => ({ $ref: `#/components/headers/${name}` });
const HEADERS: Json = {
  'X-Request-Id': {
    description: "This request's id (a sane incoming X-Request-Id is kept, else a UUID); the service's log line carries it.",
    required: true,
    schema: { type: 'string', pattern: '^[\\w.:-]{1,128}$' },
  },
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 0 } },
  'WWW-Authenticate': { description: 'The scheme to authenticate with.', required: true, schema: { type: 'string', enum: ['Bearer'] } },
  'Idempotent-Replayed': {
    description: 'Present on an answer given again (its status and body) for a repeated Idempotency-Key.',
    schema: { type: 'string', enum: ['true'] },
  },
  'Server-Timing': {
    description: 'Milliseconds spent waiting for Gemini (`upstream`, absent on a replay) and in all (`total`, from arrival).',
    required: true,
    schema: { type: 'string', pattern: '^(upstream;dur=\\d+(\\.\\d+)?, )?total;dur=\\d+(\\.\\d+)?$' },
  },
  'Content-Disposition': {
    description: 'attachment; filename="<ASCII fallback>" and, for other names, filename*=UTF-8\'\'<percent-encoded name> (RFC 6266).',
    required: true,
    schema: { type: 'string', pattern: '^attachment; filename=' },
  },
};
const ALLOW = { description: 'The methods the path takes.', required: true, schema: { type: 'string', pattern: '^[A-Z]+(, [A-Z]+)*$' } };

/** Statuses the HTTP edge answers before (or instead of) a controller, and where. */
const EDGE: Record<string, string> = {
  401: 'UNAUTHORIZED: ADMIN_API_KEY is set and no valid Bearer key was sent (refused before the body is read).',
  403: 'HOST_NOT_ALLOWED: open mode answers only loopback names and ALLOWED_HOSTS.',
  408: 'REQUEST_TIMEOUT: the body did not arrive within REQUEST_BODY_TIMEOUT_MS (30 s by default).',
  413: 'PAYLOAD_TOO_LARGE: body over 1 MiB (refused from Content-Length before it is read).',
  415: 'UNSUPPORTED_MEDIA_TYPE: a body that is not Content-Type: application/json (or a body where the route takes none).',
  500: 'INTERNAL: something unexpected; logged with the request id, the body says nothing more.',
  503: 'NOT_READY: this instance is migrating its database or shutting down; retry (see Retry-After).',
};
const HEALTH_PATHS = ['/health', '/health/ready', '/metrics'];

function finishDocument(document: OpenAPIObject): OpenAPIObject {
  const doc = document as Json;
  doc.info.license = { name: 'UNLICENSED' };
  doc.components.headers = HEADERS;
  doc.components.schemas = { ...doc.components.schemas, ...TURN_EVENT_SCHEMAS };
  // Every path answers the methods it does not take so; OpenAPI 3.0 has no slot for a response to
  // an operation that does not exist, hence an extension at the top.
  doc['x-method-not-allowed'] = {
    description: 'METHOD_NOT_ALLOWED: the path exists, the method is not one it takes (see Allow).',
    headers: { 'X-Request-Id': header('X-Request-Id'), Allow: ALLOW },
    content: errorContent(),
  };
  for (const [path, item] of Object.entries<Json>(doc.paths))
    for (const [method, operation] of Object.entries<Json>(item)) finishOperation(path, method, operation);
  const requestSchemas = new Set<string>();
  for (const item of Object.values<Json>(doc.paths))
    for (const operation of Object.values<Json>(item)) {
      const schema = operation.requestBody?.content?.['application/json']?.schema;
      if (schema) collectRefs(doc, schema, requestSchemas);
    }
  for (const name of requestSchemas) doc.components.schemas[name].additionalProperties = false;
  for (const schema of Object.values<Json>(doc.components.schemas)) exactTypes(schema);
  // common/ (where the error body is declared) stands below messages/: the usage of a refused call
  // is a model message's usage, which only this floor sees both of.
  const errorUsage = doc.components.schemas.ErrorBodyDto.properties.usage;
  doc.components.schemas.ErrorBodyDto.properties.usage = {
    description: errorUsage.description,
    oneOf: [{ $ref: '#/components/schemas/UsageDto' }, NULL_OBJECT],
  };
  return document;
}

function finishOperation(path: string, method: string, operation: Json): void {
  const responses: Json = operation.responses;
  // Not an API key: METRICS_TOKEN, asked for only when it is set. (@Public() on a method does not
  // reach the document: Nest drops an empty `security` there; on a controller it does.)
  if (operation.operationId === 'getMetrics') operation.security = [{}, { metricsToken: [] }];
  const isPublic = Array.isArray(operation.security) && !operation.security.some((requirement: Json) => 'bearer' in requirement);
  const body = operation.requestBody?.content ?? {};
  const jsonBody = 'application/json' in body;
  const edge: string[] = ['500'];
  if (!HEALTH_PATHS.includes(path)) edge.push('403', '503');
  if (!isPublic) edge.push('401');
  // The body gate reads (or refuses) a body on any request but a GET, whether the route takes one or not.
  if (Object.keys(body).length > 0 || method !== 'get') edge.push('408', '413');
  if (jsonBody || (method !== 'get' && Object.keys(body).length === 0)) edge.push('415');
  for (const status of edge) {
    const existing = responses[status];
    if (!existing) responses[status] = { description: EDGE[status], content: errorContent() };
    else if (!existing.description.includes(EDGE[status].split(':')[0]) && isErrorBody(existing))
      existing.description = `${existing.description} Or ${EDGE[status]}`;
  }
  for (const [status, response] of Object.entries<Json>(responses)) {
    // @ApiProduces lists a route's success types for every status; an error is always a JSON error body.
    if (Number(status) >= 400 && isErrorBody(response)) response.content = errorContent();
    response.headers = { 'X-Request-Id': header('X-Request-Id'), ...response.headers };
    if (status === '401' && isErrorBody(response)) response.headers['WWW-Authenticate'] = header('WWW-Authenticate');
    if (['409', '429', '503'].includes(status) && isErrorBody(response)) response.headers['Retry-After'] = header('Retry-After');
  }
  const idempotent = (operation.parameters ?? []).some((parameter: Json) => parameter.name === 'Idempotency-Key');
  // A replay gives the first answer again, a client error as well as a success (failures upstream are not kept).
  if (idempotent)
    for (const [status, response] of Object.entries<Json>(responses))
      if (Number(status) < 500) response.headers['Idempotent-Replayed'] = header('Idempotent-Replayed');
  if (operation.operationId === 'sendMessage' || operation.operationId === 'chat') {
    const success = responses[operation.operationId === 'chat' ? '200' : '201'];
    success.headers['Server-Timing'] = header('Server-Timing');
  }
  if (operation.operationId === 'sendMessage' || operation.operationId === 'getTurnEvents') {
    if (operation.operationId === 'sendMessage') delete responses['201'].content['text/event-stream'];
    responses['200'] = {
      description:
        (operation.operationId === 'sendMessage' ? 'With `Accept: text/event-stream`: the turn' : "The turn's events") +
        ' as Server-Sent Events, one frame per item of this array (`event:`, `id:`, `data:` lines, data as JSON), after a ' +
        '`retry:` hint: `turn` first, `delta` any number of times, then `done` (the 201 body of the turn) or `error` (an error ' +
        'body). Resumed with Last-Event-ID, the frames after that event.' +
        (operation.operationId === 'sendMessage' ? ' Server-Timing follows the stream as a trailer.' : ''),
      headers: { 'X-Request-Id': header('X-Request-Id') },
      content: { 'text/event-stream': { schema: { $ref: '#/components/schemas/TurnEventStream' } } },
    };
  }
  if (operation.operationId === 'exportSession') {
    const ok = responses['200'];
    ok.content['text/markdown'] = { schema: { type: 'string', description: 'The conversation as Markdown.' } };
    ok.headers['Content-Disposition'] = header('Content-Disposition');
  }
  if (operation.operationId === 'downloadFile') {
    const ok = responses['200'];
    ok.headers['Content-Disposition'] = header('Content-Disposition');
  }
  // The 2xx first, then the errors in order: what a reader looks for first.
  operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

/** What a nullable object's null is in OpenAPI 3.0.3 (nullable needs a type beside it). */
const NULL_OBJECT = { type: 'object', nullable: true, enum: [null] };

const errorContent = () => ({ 'application/json': { schema: { $ref: ERROR_BODY } } });

function isErrorBody(response: Json): boolean {
  return Object.values<Json>(response.content ?? {}).some((media) => media.schema?.$ref === ERROR_BODY);
}

function collectRefs(doc: Json, schema: unknown, names: Set<string>): void {
  if (Array.isArray(schema)) return schema.forEach((item) => collectRefs(doc, item, names));
  if (typeof schema !== 'object' || schema === null) return;
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string') {
      const name = value.split('/').pop()!;
      if (names.has(name)) continue;
      names.add(name);
      collectRefs(doc, doc.components.schemas[name], names);
    } else collectRefs(doc, value, names);
  }
}

/**
 * Types as exact as the wire: every number the API sends is a count, an id or a size (integers)
 * but dollar amounts, which end in `_usd`; times end in `_at` (or are the legacy `timestamp`);
 * a nullable object accepts null.
 */
function exactTypes(schema: Json): void {
  for (const [property, value] of Object.entries<Json>(schema.properties ?? {})) {
    const target = value.type === 'array' ? value.items : value;
    if (target.type === 'number' && !property.endsWith('_usd')) target.type = 'integer';
    if (target.type === 'string' && (property.endsWith('_at') || property === 'timestamp')) target.format = 'date-time';
    const ref = value.$ref ?? (value.allOf?.length === 1 ? value.allOf[0].$ref : undefined);
    if (ref && value.nullable) {
      schema.properties[property] = {
        ...(value.description ? { description: value.description } : {}),
        oneOf: [{ $ref: ref }, NULL_OBJECT],
      };
    }
  }
}

/** The frames of a streamed turn (POST /sessions/{id}/messages with Accept: text/event-stream). */
const frame = (event: string, data: Json, description: string): Json => ({
  type: 'object',
  description,
  required: ['event', 'data'],
  additionalProperties: false,
  properties: {
    event: { type: 'string', enum: [event] },
    id: {
      type: 'string',
      pattern: '^[^:\\s]+:\\d+$',
      description: '`<turn_id>:<seq>`: send it back as Last-Event-ID to resume after this event.',
    },
    retry: { type: 'integer', minimum: 0, description: 'Reconnection delay hint, ms.' },
    data,
  },
});
const TURN_EVENT_SCHEMAS: Json = {
  TurnStartedEvent: frame(
    'turn',
    {
      type: 'object',
      required: ['turn_id', 'session_id'],
      properties: { turn_id: { type: 'string' }, session_id: { type: 'string', format: 'uuid' } },
    },
    'First: the turn this stream is, to re-attach to (GET /sessions/{id}/turns/{turn_id}/events) or cancel.',
  ),
  TurnDeltaEvent: frame(
    'delta',
    { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    'Text as Gemini writes it; the deltas, in order, make the reply.',
  ),
  TurnDoneEvent: frame('done', { $ref: '#/components/schemas/TurnResponseDto' }, 'Last, on success: the 201 body.'),
  TurnErrorEvent: frame('error', { $ref: ERROR_BODY }, 'Last, on a failure after the stream opened: the error body.'),
  TurnEventStream: {
    type: 'array',
    description: 'The frames of the stream, in order.',
    items: {
      oneOf: ['TurnStartedEvent', 'TurnDeltaEvent', 'TurnDoneEvent', 'TurnErrorEvent'].map((name) => ({
        $ref: `#/components/schemas/${name}`,
      })),
    },
  },
};

/** The document as docs/openapi.json holds it: two-space JSON and a final newline. */
export function documentText(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
