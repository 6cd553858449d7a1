import { ApiError } from '@google/genai';
import { DomainError, ErrorCode, statusFor } from '../common/errors.js';
import { MAX_RETRY_AFTER_SECONDS, retryAfterFrom, tokenLimitOf, toDomainError } from './upstream-errors.js';

const context = { model: 'gemini-2.5-flash', timeoutMs: 1500, timedOut: false };
const SECRET = 'upstream-secret-detail-4711';

/** ApiError.message is the upstream body stringified; for stream errors it is encoded twice (js-genai #728). */
function apiError(status: number, statusText: string, extra: object = {}, doubleEncoded = false): ApiError {
  const body = JSON.stringify({ error: { code: status, message: `${statusText}: ${SECRET}`, status: statusText, ...extra } });
  return new ApiError({ status, message: doubleEncoded ? JSON.stringify(body) : body });
}

function mapped(error: unknown, overrides: Partial<typeof context> = {}): DomainError {
  return toDomainError(error, { ...context, ...overrides });
}

describe('toDomainError', () => {
  it.each<[string, unknown, ErrorCode, number]>([
    ['ApiError 429', apiError(429, 'RESOURCE_EXHAUSTED'), ErrorCode.UPSTREAM_RATE_LIMITED, 503],
    ['ApiError 429, double-encoded stream error', apiError(429, 'RESOURCE_EXHAUSTED', {}, true), ErrorCode.UPSTREAM_RATE_LIMITED, 503],
    ['ApiError 500', apiError(500, 'INTERNAL'), ErrorCode.UPSTREAM_ERROR, 502],
    ['ApiError 503', apiError(503, 'UNAVAILABLE'), ErrorCode.UPSTREAM_ERROR, 502],
    ['ApiError 503, double-encoded', apiError(503, 'UNAVAILABLE', {}, true), ErrorCode.UPSTREAM_ERROR, 502],
    ['ApiError 504 (upstream deadline)', apiError(504, 'DEADLINE_EXCEEDED'), ErrorCode.UPSTREAM_TIMEOUT, 504],
    ['ApiError 400', apiError(400, 'INVALID_ARGUMENT'), ErrorCode.UPSTREAM_ERROR, 502],
    ['ApiError 403 (bad key)', apiError(403, 'PERMISSION_DENIED'), ErrorCode.UPSTREAM_ERROR, 502],
    ['ApiError 404 (retired model)', apiError(404, 'NOT_FOUND'), ErrorCode.UPSTREAM_ERROR, 502],
    ['TypeError: fetch failed', new TypeError('fetch failed', { cause: new Error(SECRET) }), ErrorCode.UPSTREAM_ERROR, 502],
    [
      'fetch failed, as SDK 2.32 wraps it',
      new Error('exception TypeError: fetch failed sending request', { cause: new TypeError('fetch failed') }),
      ErrorCode.UPSTREAM_ERROR,
      502,
    ],
    ['AbortError (DOMException)', new DOMException(SECRET, 'AbortError'), ErrorCode.UPSTREAM_TIMEOUT, 504],
    ['SyntaxError from a malformed body', new SyntaxError(`Unexpected token in JSON: ${SECRET}`), ErrorCode.UPSTREAM_ERROR, 502],
    ['"Incomplete JSON segment" from a broken stream', new Error(`Incomplete JSON segment ${SECRET}`), ErrorCode.UPSTREAM_ERROR, 502],
  ])('maps %s', (_name, error, code, status) => {
    const result = mapped(error);
    expect(result.code).toBe(code);
    expect(statusFor(result.code)).toBe(status);
    // Upstream text never reaches a client.
    expect(result.message).not.toContain(SECRET);
    expect(result.message).not.toMatch(/RESOURCE_EXHAUSTED|INTERNAL|\{/);
  });

  it('treats any failure after our own deadline fired as a timeout naming the deadline', () => {
    const result = mapped(new TypeError('fetch failed'), { timedOut: true });
    expect(result.code).toBe(ErrorCode.UPSTREAM_TIMEOUT);
    expect(result.message).toContain('1500 ms');
  });

  it('says plainly that Gemini could not be reached on a network failure', () => {
    expect(mapped(new TypeError('fetch failed')).message).toBe('Gemini could not be reached.');
  });

  it('names the model and GEMINI_MODEL for a retired model', () => {
    expect(mapped(apiError(404, 'NOT_FOUND')).message).toMatch(/"gemini-2\.5-flash".*GEMINI_MODEL/);
  });

  it('takes Retry-After from the RetryInfo of a 429, single or double encoded', () => {
    const details = { details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '13s' }] };
    expect(mapped(apiError(429, 'RESOURCE_EXHAUSTED', details)).retryAfterSeconds).toBe(13);
    expect(mapped(apiError(429, 'RESOURCE_EXHAUSTED', details, true)).retryAfterSeconds).toBe(13);
    expect(retryAfterFrom('{"retryDelay": "0.4s"}')).toBe(1);
    // A hint of years is not passed on: a client is told to come back within the hour.
    expect(retryAfterFrom('{"retryDelay": "999999999s"}')).toBe(MAX_RETRY_AFTER_SECONDS);
  });

  it('defaults Retry-After when Gemini gives none', () => {
    expect(mapped(apiError(429, 'RESOURCE_EXHAUSTED')).retryAfterSeconds).toBe(30);
  });

  it('passes domain errors through unchanged', () => {
    const error = new DomainError(ErrorCode.CONTENT_BLOCKED, 'blocked');
    expect(mapped(error)).toBe(error);
  });
});

describe('tokenLimitOf', () => {
  it.each([
    [
      'the count and the limit',
      '{"error":{"message":"The input token count (1200) exceeds the maximum number of tokens allowed (1000)."}}',
      { promptTokens: 1200, limit: 1000 },
    ],
    [
      'a double-encoded stream error',
      JSON.stringify('{"message": "The input token count (5) exceeds the maximum number of tokens allowed (4)."}'),
      { promptTokens: 5, limit: 4 },
    ],
    [
      'the limit alone',
      'The input token count exceeds the maximum number of tokens allowed 1048576.',
      { promptTokens: null, limit: 1_048_576 },
    ],
    ['another 400', '{"error":{"message":"Request contains an invalid argument."}}', null],
  ])('reads %s', (_name, message, expected) => {
    expect(tokenLimitOf(message)).toEqual(expected);
  });

  it('makes a 400 over the limit CONTEXT_TOO_LONG (422), with no upstream text', () => {
    const error = new ApiError({
      status: 400,
      message:
        '{"error":{"code":400,"message":"The input token count (9) exceeds the maximum number of tokens allowed (8).","status":"INVALID_ARGUMENT"}}',
    });
    const result = mapped(error);
    expect(result.code).toBe(ErrorCode.CONTEXT_TOO_LONG);
    expect(statusFor(result.code)).toBe(422);
    expect(result.message).toBe(
      "The prompt is 9 tokens, over the context limit of 8 tokens. Gemini refused it as over the model's limit, even with older turns left out to fit the limit it named.",
    );
  });
});
