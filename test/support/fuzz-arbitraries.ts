import fc from 'fast-check';
import { MODEL_ID_PATTERN, USER_ID_PATTERN } from '../../src/common/validation-rules.js';
import { encodeSegment } from './fuzz-client.js';

/**
 * fast-check arbitraries for the fuzz spec. A generated request is plain data (a `RequestSpec`);
 * ids of things the server made during the run are `PoolRef`s, resolved when the request is
 * built, so runs stay reproducible from the seed while still hitting existing sessions and users.
 */

/** `owner`: the owner of the session with the same index (so a /chat body can name its own chat). */
export type Pool = 'session' | 'owner' | 'user' | 'key' | 'apikey';

export class PoolRef {
  constructor(
    readonly pool: Pool,
    readonly index: number,
  ) {}

  [fc.toStringMethod](): string {
    return `ref(${this.pool}#${this.index})`;
  }
}

export type RouteName =
  | 'POST /users'
  | 'PATCH /users/:user_id'
  | 'DELETE /users/:user_id'
  | 'POST /sessions'
  | 'PATCH /sessions/:session_id'
  | 'DELETE /sessions/:session_id'
  | 'POST /sessions/:session_id/messages'
  | 'POST /sessions/:session_id/messages (SSE)'
  | 'POST /chat'
  | 'POST /users/:user_id/api-keys'
  | 'DELETE /users/:user_id/api-keys/:key_id';

export interface RouteSpec {
  method: 'POST' | 'PATCH' | 'DELETE';
  /** Literal segments, or the pool a path parameter comes from. */
  segments: (string | { param: 'session' | 'user' | 'key' })[];
  /** Fields of the body DTO; null: the route takes no body (it is read, then ignored). */
  fields: string[] | null;
  stream?: boolean;
}

const S = { param: 'session' } as const;
const U = { param: 'user' } as const;
const K = { param: 'key' } as const;

export const ROUTES: Record<RouteName, RouteSpec> = {
  'POST /users': { method: 'POST', segments: ['users'], fields: ['user_id', 'username', 'email'] },
  'PATCH /users/:user_id': { method: 'PATCH', segments: ['users', U], fields: ['daily_budget_usd'] },
  'DELETE /users/:user_id': { method: 'DELETE', segments: ['users', U], fields: null },
  'POST /sessions': { method: 'POST', segments: ['sessions'], fields: ['user_id', 'title', 'model', 'system_instruction'] },
  'PATCH /sessions/:session_id': { method: 'PATCH', segments: ['sessions', S], fields: ['title', 'system_instruction', 'model'] },
  'DELETE /sessions/:session_id': { method: 'DELETE', segments: ['sessions', S], fields: null },
  'POST /sessions/:session_id/messages': { method: 'POST', segments: ['sessions', S, 'messages'], fields: ['message'] },
  'POST /sessions/:session_id/messages (SSE)': { method: 'POST', segments: ['sessions', S, 'messages'], fields: ['message'], stream: true },
  'POST /chat': { method: 'POST', segments: ['chat'], fields: ['user_id', 'message', 'chat_id'] },
  'POST /users/:user_id/api-keys': { method: 'POST', segments: ['users', U, 'api-keys'], fields: null },
  'DELETE /users/:user_id/api-keys/:key_id': { method: 'DELETE', segments: ['users', U, 'api-keys', K], fields: null },
};

export const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[];

/** A path parameter: something the server made, or a literal segment (already valid in a request target). */
export type IdSpec = PoolRef | { segment: string };

export type BodySpec =
  | { kind: 'none' }
  /** JSON.stringify'd (PoolRefs resolved), sent with `contentType`. */
  | { kind: 'json'; value: unknown; contentType: string }
  /** Sent as is. */
  | { kind: 'text'; text: string; contentType: string | null }
  /** `depth` nested arrays or objects, at the top or under a field. */
  | { kind: 'deep'; depth: number; shape: 'array' | 'object'; field: string | null }
  /** A JSON object of about `bytes` bytes (one long string field). */
  | { kind: 'size'; bytes: number; field: string }
  /** JSON compressed with `encoding` (or garbage claiming it). */
  | { kind: 'encoded'; value: unknown; encoding: string; corrupt: boolean };

export interface HeaderSpec {
  accept?: string;
  idempotencyKey?: string;
  authorization?: string | PoolRef;
  requestId?: string;
  /** Appended to the target: a trailing slash, or a query string. */
  suffix?: string;
}

export interface RequestSpec {
  route: RouteName;
  ids: IdSpec[];
  body: BodySpec;
  headers: HeaderSpec;
}

// ---------------------------------------------------------------------------------------------
// Strings

/** One character that tends to break things: controls, separators, lone surrogates, non-BMP, … */
export const weirdChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '/',
      '\\',
      '?',
      '#',
      '%',
      ' ',
      '\t',
      '\n',
      '\r',
      '\0',
      '\u0007',
      '\u001b',
      '\u007f',
      '\u0085',
      '\u00a0',
      '\u00ff',
      '\u2028',
      '\u2029',
      '\u200b',
      '\u202e',
      '\ufeff',
      '\ufffd',
      '\uffff',
      '"',
      "'",
      '<',
      '>',
      '&',
      '{',
      '}',
      '..',
      '%00',
      '\u{1f600}',
      '\u{10ffff}',
    ),
  },
);

export const weirdString = (maxLength = 40): fc.Arbitrary<string> => fc.string({ unit: weirdChar, maxLength });

/** Strings of a few KB, cheap to make: a short piece repeated. */
export const hugeString: fc.Arbitrary<string> = fc
  .tuple(fc.string({ unit: weirdChar, minLength: 1, maxLength: 8 }), fc.integer({ min: 100, max: 6000 }))
  .map(([piece, length]) => piece.repeat(Math.ceil(length / piece.length)).slice(0, length));

const nested = (depth: number, leaf: unknown): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i += 1) value = [value];
  return value;
};

/** A JSON value of the wrong type for any string field. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  fc.tuple(fc.integer({ min: 1, max: 60 }), fc.constantFrom<unknown>('x', 1, null, {})).map(([depth, leaf]) => nested(depth, leaf)),
);

const isRetiredModel = (model: string) => /retired/i.test(model) || /^gemini-1\.[05]-(pro|flash)$/.test(model);

/** Served models, unknown-but-well-formed ones (the emulator serves them, unpriced), and garbage. */
const modelValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.5-flash-lite', 'gemini-3-pro-preview') },
  { weight: 2, arbitrary: fc.stringMatching(new RegExp(MODEL_ID_PATTERN.source)).filter((model) => !isRetiredModel(model)) },
  { weight: 2, arbitrary: weirdString(30) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('gemini 2.5; drop table', '../gemini-2.5-flash', 'models/gemini-2.5-flash', 'a'.repeat(101), ''),
  },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: wrongType },
);

const validUserId: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^fz-[a-z0-9]{1,10}$/),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }).filter((id) => USER_ID_PATTERN.test(id)),
  fc.string({ unit: weirdChar, minLength: 1, maxLength: 24 }).filter((id) => USER_ID_PATTERN.test(id)),
);

const userIdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.nat(64).map((index) => new PoolRef('user', index)) },
  { weight: 3, arbitrary: validUserId },
  { weight: 3, arbitrary: weirdString(30) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' alice', 'alice ', 'a/b', 'a\\b', 'a?b', 'a#b', 'a%b', 'x'.repeat(129), 'x'.repeat(128), 'anonymous'),
  },
  { weight: 1, arbitrary: hugeString },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: wrongType },
);

export const validMessage: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('Hello!', 'What is 2+2?', 'Tell me a story about a fuzzer.'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).filter((text) => /\S/.test(text)),
);

const messageValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: validMessage },
  { weight: 3, arbitrary: weirdString(60) },
  { weight: 2, arbitrary: hugeString },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n\t ', '\u00a0', '\u2028', '\ufeff', '\u200b') },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: wrongType },
);

const textValue = (maxLength: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }) },
    { weight: 3, arbitrary: weirdString(40) },
    { weight: 1, arbitrary: hugeString },
    { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(maxLength), 'x'.repeat(maxLength + 1)) },
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: wrongType },
  );

const sessionIdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.nat(64).map((index) => new PoolRef('session', index)) },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 2, arbitrary: weirdString(40) },
  { weight: 1, arbitrary: fc.uuid().map((id) => id.toUpperCase()) },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: wrongType },
);

const budgetValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1_000_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: -10, max: 2_000_000 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      0,
      -0,
      1e-9,
      1e-10,
      0.1 + 0.2,
      1_000_000,
      1_000_000.000000001,
      1_000_001,
      5e-324,
      1e308,
      -1e-9,
      123.456789123,
    ),
  },
  { weight: 1, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.oneof(weirdString(12), fc.constantFrom('5', '1e3', '0x10', 'NaN', 'Infinity')) },
  { weight: 1, arbitrary: wrongType },
);

const FIELD_VALUES: Record<string, fc.Arbitrary<unknown>> = {
  user_id: userIdValue,
  username: textValue(200),
  email: fc.oneof(
    { weight: 3, arbitrary: fc.emailAddress() },
    { weight: 2, arbitrary: weirdString(40) },
    { weight: 1, arbitrary: fc.constantFrom('a@b', 'a@b.c', '@', 'x'.repeat(310) + '@example.com', 'not-an-email', null) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: hugeString },
    { weight: 1, arbitrary: wrongType },
  ),
  daily_budget_usd: budgetValue,
  title: textValue(200),
  model: modelValue,
  system_instruction: textValue(32000),
  message: messageValue,
  chat_id: sessionIdValue,
};

/** A body the route accepts (most of the time: pool refs may point at deleted things). */
const VALID_FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  user_id: fc.oneof(
    fc.nat(64).map((index) => new PoolRef('user', index)),
    validUserId,
  ),
  username: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  email: fc.emailAddress(),
  // 0 stops the user's turns (429 BUDGET_EXCEEDED, which must store nothing either).
  daily_budget_usd: fc.oneof(fc.constant(null), fc.constantFrom(0, 0.5, 5, 100, 1_000_000)),
  title: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  model: fc.constantFrom('gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.5-flash-lite'),
  system_instruction: fc.string({ unit: 'grapheme', maxLength: 60 }),
  message: validMessage,
  chat_id: fc.nat(64).map((index) => new PoolRef('session', index)),
};

/** A /chat turn in one of the stored chats, as its owner. */
const ownChatTurn: fc.Arbitrary<[string, unknown][]> = fc.tuple(fc.nat(64), validMessage).map(([index, message]) => [
  ['user_id', new PoolRef('owner', index)],
  ['message', message],
  ['chat_id', new PoolRef('session', index)],
]);

const REQUIRED: Partial<Record<RouteName, string[]>> = {
  'PATCH /users/:user_id': ['daily_budget_usd'],
  'POST /sessions/:session_id/messages': ['message'],
  'POST /sessions/:session_id/messages (SSE)': ['message'],
  'POST /chat': ['user_id', 'message'],
};

/** Keys no DTO has; some are known fields of other routes, some are prototype names. */
export const unknownKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'admin',
    'id',
    'is_admin',
    'user_id',
    'chat_id',
    'message',
    'messages',
    'session_id',
    'daily_budget_usd',
    'key_id',
    'MESSAGE',
    'message ',
    ' message',
    '',
  ),
  fc.string({ unit: weirdChar, maxLength: 10 }),
);

/** Builds a plain object key by key (so a `__proto__` key is an own property, as JSON.parse makes it). */
export function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
}

function fieldsObject(
  fields: string[],
  values: Record<string, fc.Arbitrary<unknown>>,
  required: string[],
): fc.Arbitrary<[string, unknown][]> {
  return fc
    .tuple(
      ...fields.map((field) =>
        required.includes(field)
          ? values[field].map((value) => [field, value] as [string, unknown])
          : fc.option(
              values[field].map((value) => [field, value] as [string, unknown]),
              { nil: undefined },
            ),
      ),
    )
    .map((entries) => entries.filter((entry): entry is [string, unknown] => entry !== undefined));
}

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=UTF-8'];

/** The body of a request to `route`. */
export function bodyArb(route: RouteName): fc.Arbitrary<BodySpec> {
  const fields = ROUTES[route].fields ?? [];
  const required = REQUIRED[route] ?? [];
  const jsonType = fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom(...JSON_TYPES) },
  );
  const json = (value: fc.Arbitrary<unknown>) => fc.record({ kind: fc.constant('json' as const), value, contentType: jsonType });

  const validEntries = fieldsObject(fields, VALID_FIELDS, required);
  const valid = json((route === 'POST /chat' ? fc.oneof(validEntries, ownChatTurn) : validEntries).map(objectOf));
  const fuzzed = json(
    fc
      .tuple(
        fieldsObject(fields, FIELD_VALUES, []),
        fc.oneof(
          { weight: 3, arbitrary: fc.constant([] as [string, unknown][]) },
          { weight: 1, arbitrary: fc.array(fc.tuple(unknownKey, fc.jsonValue({ maxDepth: 2 })), { minLength: 1, maxLength: 3 }) },
        ),
      )
      .map(([known, unknown]) => objectOf([...known, ...unknown])),
  );
  const anyJson = json(fc.jsonValue({ maxDepth: 4 }));
  // Thousands of unknown fields: refusing them must cost their size, not its square.
  const manyFields = json(
    fc
      .tuple(validEntries, fc.constantFrom(50, 2_000, 20_000))
      .map(([entries, count]) => objectOf([...entries, ...Array.from({ length: count }, (_, i): [string, unknown] => [`extra${i}`, i])])),
  );
  const malformed: fc.Arbitrary<BodySpec> = fc.record({
    kind: fc.constant('text' as const),
    contentType: jsonType,
    text: fc.oneof(
      fc.constantFrom(
        '{',
        '}',
        '[',
        '{"message":',
        '{"message":"hi"',
        "{'message':'hi'}",
        '{"message":"hi",}',
        '{message:"hi"}',
        'NaN',
        'undefined',
        'null',
        'true',
        '"just a string"',
        '42',
        '[1,]',
        '{"a":1}{"b":2}',
        '\u0000',
        ' ',
        '\n',
        '\ufeff{"message":"hi"}',
        '{"message":"\\x41"}',
        '{"message":"\\ud800"}',
        '{"message": 1e999}',
        '{"__proto__": {"admin": true}}',
        '{"constructor": {"prototype": {"polluted": 1}}}',
        '{"message":"hi"} trailing',
        '/* comment */ {}',
        '{"a":-}',
        '{"a":01}',
        '{"message":"a\u0000b"}',
        '{"message":"line\nbreak"}',
      ),
      fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.nat()).map(([value, cut]) => {
        const text = JSON.stringify(value) ?? 'null';
        return text.slice(0, cut % (text.length + 1));
      }),
      weirdString(60),
    ),
  });
  const otherType: fc.Arbitrary<BodySpec> = fc.oneof(
    fc.record({
      kind: fc.constant('text' as const),
      contentType: fc.constantFrom(
        'text/plain',
        'text/plain; charset=utf-8',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=fuzz',
        'application/xml',
        'application/octet-stream',
        'application/merge-patch+json',
        'application/vnd.api+json',
        'application/json; charset=utf-16',
        'application/json; charset=latin1',
        'application/json; charset=bogus',
        'application/json; charset=',
        'application/json;;;',
        'application/json, text/plain',
        '*/*',
        'json',
        '',
        '\u00ff/\u00fe',
      ),
      text: fc.oneof(
        fc.constantFrom('message=hello', 'user_id=fz-form&message=hi', 'message[a]=1&message[b]=2', '__proto__[admin]=1', 'a=%ZZ', '%'),
        fieldsObject(fields, VALID_FIELDS, required).map((entries) =>
          JSON.stringify(objectOf(entries.map(([key, value]) => [key, value instanceof PoolRef ? 'fz-ref' : value]))),
        ),
        weirdString(60),
      ),
    }),
    fc.record({
      kind: fc.constant('text' as const),
      contentType: fc.constant(null),
      text: fc.constantFrom('{"message":"hi"}', 'hello', ''),
    }),
  );
  const deep: fc.Arbitrary<BodySpec> = fc.record({
    kind: fc.constant('deep' as const),
    depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 200, max: 100_000 })),
    shape: fc.constantFrom('array' as const, 'object' as const),
    field: fc.option(fc.constantFrom(...fields, 'unknown'), { nil: null }),
  });
  const size: fc.Arbitrary<BodySpec> = fc.record({
    kind: fc.constant('size' as const),
    bytes: fc.constantFrom(150_000, 600_000, 1_048_000, 1_048_577, 1_200_000),
    field: fc.constantFrom(...fields, 'padding'),
  });
  const encoded: fc.Arbitrary<BodySpec> = fc.record({
    kind: fc.constant('encoded' as const),
    value: fieldsObject(fields, VALID_FIELDS, required).map(objectOf),
    encoding: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-bogus', 'gzip, gzip'),
    corrupt: fc.boolean(),
  });
  return fc.oneof(
    { weight: 12, arbitrary: valid },
    { weight: 16, arbitrary: fuzzed },
    { weight: 3, arbitrary: anyJson },
    { weight: 1, arbitrary: manyFields },
    { weight: 4, arbitrary: malformed },
    { weight: 3, arbitrary: otherType },
    { weight: 2, arbitrary: deep },
    { weight: 1, arbitrary: size },
    { weight: 1, arbitrary: encoded },
    { weight: 2, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) },
  );
}

// ---------------------------------------------------------------------------------------------
// What Gemini answers: its usage numbers are input too

const upstreamCount: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.nat(100_000) },
  { weight: 1, arbitrary: fc.constantFrom(1e308, -1, -0, 1.5, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, '7', '', null, true, [], {}) },
);

/** Usage metadata for the emulator to send: mostly its own, sometimes numbers no bill should hold. */
export const upstreamUsageArb: fc.Arbitrary<Record<string, unknown> | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        promptTokenCount: upstreamCount,
        candidatesTokenCount: upstreamCount,
        thoughtsTokenCount: upstreamCount,
        totalTokenCount: upstreamCount,
      },
      { requiredKeys: [] },
    ),
  },
);

// ---------------------------------------------------------------------------------------------
// Path ids

const HEX16 = /^[0-9a-f]{16}$/;

/** Segments that are valid in a request target but mean trouble once decoded. */
const SPECIAL_SEGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '%2E',
  '%00',
  '%0A',
  '%0D%0A',
  '%',
  '%Z',
  '%ZZ',
  '%E0%A4%A',
  '%C0%AF',
  '%FF',
  '%ED%A0%80',
  '%F0%9F%98',
  '%2F',
  '%5C',
  '%3F',
  '%23',
  '%25',
  '%20',
  '%20alice',
  'alice%20',
  '%2e',
  ';',
  ':',
  '@',
  '!',
  '$',
  "'",
  '(',
  ')',
  '*',
  '+',
  ',',
  '=',
  '~',
  '-',
  '_',
  'null',
  'undefined',
  'NaN',
  '0',
  '-1',
  '__proto__',
  'constructor',
  'anonymous',
  '%F0%9F%98%80',
  '%EF%BB%BF',
  'a;b=c',
  '..%2f..%2fetc%2fpasswd',
  '%u0041',
  '%%',
  '%25%32%46',
];

/** Characters allowed raw in a path segment (RFC 3986 pchar), plus `%` for broken escapes. */
const PCHAR = [..."ABCXYZabcxyz0189-._~!$&'()*+,;=:@%"];

export const garbageSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_SEGMENTS) },
  { weight: 3, arbitrary: weirdString(30).map(encodeSegment) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...PCHAR), maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 129, max: 4000 }).map((length) => 'x'.repeat(length)) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 50, maxLength: 200 }).map(encodeSegment) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.uuid(), fc.constantFrom('upper', 'nodash', 'braces', 'suffix', 'nul', 'space')).map(([id, how]) => {
      switch (how) {
        case 'upper':
          return id.toUpperCase();
        case 'nodash':
          return id.replace(/-/g, '');
        case 'braces':
          return encodeSegment(`{${id}}`);
        case 'suffix':
          return `${id}x`;
        case 'nul':
          return `${id}%00`;
        default:
          return `%20${id}`;
      }
    }),
  },
);

export function idArb(param: 'session' | 'user' | 'key'): fc.Arbitrary<IdSpec> {
  const pool = fc.nat(64).map((index) => new PoolRef(param, index));
  const plausible = param === 'session' ? fc.uuid() : param === 'user' ? validUserId.map(encodeSegment) : fc.stringMatching(HEX16);
  return fc.oneof(
    { weight: 6, arbitrary: pool },
    { weight: 2, arbitrary: plausible.map((segment) => ({ segment })) },
    { weight: 3, arbitrary: garbageSegment.map((segment) => ({ segment })) },
  );
}

// ---------------------------------------------------------------------------------------------
// Headers

export const idempotencyKeyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('fuzz-key-1', 'fuzz-key-2', 'fuzz-key-3', 'fuzz-key-4', 'fuzz-key-5', 'fuzz-key-6') },
  { weight: 2, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,40}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' ', 'k'.repeat(255), 'k'.repeat(256), 'two words', 'tab\there', 'clé', 'ключ', '鍵', '\u{1f511}'),
  },
  { weight: 1, arbitrary: fc.integer({ min: 256, max: 2000 }).map((length) => 'k'.repeat(length)) },
  { weight: 2, arbitrary: weirdString(30) },
);

const acceptArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'application/json',
    '*/*',
    'text/html',
    'text/event-stream',
    'TEXT/EVENT-STREAM',
    'application/json, text/event-stream',
    'text/event-stream;q=0',
    'application/xml',
    '',
    'text/*',
    'image/png',
  ),
  weirdString(20),
);

const streamAcceptArb: fc.Arbitrary<string> = fc.constantFrom(
  'text/event-stream',
  'text/event-stream',
  'text/event-stream',
  'text/event-stream, application/json',
  'application/json;q=0.5, text/event-stream',
);

export const garbageAuthorization: fc.Arbitrary<string> = fc.oneof(
  weirdString(40),
  weirdString(40).map((token) => `Bearer ${token}`),
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'Bearer  ',
    'bearer x',
    'Basic Zm9vOmJhcg==',
    'Token abc',
    'Bearer a b',
    'Bearer\tx',
    `Bearer ${'x'.repeat(4000)}`,
    'Bearer gca_0123456789abcdef.0000000000000000000000000000000000000000000',
    'null',
    'undefined',
  ),
  fc.tuple(fc.stringMatching(HEX16), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)).map(([id, secret]) => `Bearer gca_${id}.${secret}`),
);

const requestIdArb: fc.Arbitrary<string> = fc.oneof(fc.constantFrom('fuzz-request-1', 'x'.repeat(200), 'a b', '../..'), weirdString(30));

const suffixArb: fc.Arbitrary<string> = fc.constantFrom(
  '/',
  '?',
  '?a=1',
  '?user_id=x&limit=-1',
  '?__proto__[x]=1',
  '?%ZZ',
  '//',
  '/.',
  '#frag',
);

/** `arbitrary` with weight `yes`, undefined with weight `no`. */
export function sometimes<T>(arbitrary: fc.Arbitrary<T>, yes: number, no: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: no, arbitrary: fc.constant(undefined) }, { weight: yes, arbitrary });
}

export interface RequestArbOptions {
  /** The Authorization header's arbitrary; garbage (rarely) by default. */
  authorization?: fc.Arbitrary<string | PoolRef | undefined>;
  routes?: { route: RouteName; weight: number }[];
}

export function requestArb(options: RequestArbOptions = {}): fc.Arbitrary<RequestSpec> {
  const routes = options.routes ?? ROUTE_NAMES.map((route) => ({ route, weight: 1 }));
  const authorization = options.authorization ?? sometimes(garbageAuthorization, 1, 8);
  return fc.oneof(
    ...routes.map(({ route, weight }) => {
      const spec = ROUTES[route];
      const params = spec.segments.filter((segment): segment is { param: 'session' | 'user' | 'key' } => typeof segment !== 'string');
      const headers: fc.Arbitrary<HeaderSpec> = fc.record({
        accept: spec.stream ? streamAcceptArb : sometimes(acceptArb, 1, 2),
        idempotencyKey: sometimes(idempotencyKeyArb, 1, 2),
        authorization,
        requestId: sometimes(requestIdArb, 1, 8),
        suffix: sometimes(suffixArb, 1, 12),
      });
      return {
        weight,
        arbitrary: fc.record({
          route: fc.constant(route),
          ids: fc.tuple(...params.map((param) => idArb(param.param))),
          body: bodyArb(route),
          headers,
        }),
      };
    }),
  );
}
