import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError, ErrorCode, ValidationFailed } from '../common/errors.js';

/**
 * Fields and array items a JSON body may hold in all, at every depth. No request of this API has
 * more than a few dozen; past this, parsing and validating are the cost of refusing (60,000
 * fields: ~150 ms; 440,000 array items: seconds; 500,000 nested arrays: ~300 ms in JSON.parse).
 */
export const MAX_JSON_ITEMS = 1_000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const isJsonSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * The object members and array items of a UTF-8 JSON text, at every depth, in one pass over its
 * bytes without parsing it: a container holds one more than the commas directly in it, unless
 * it is empty, so the count is the commas plus the containers that are not empty (every byte of
 * a multi-byte UTF-8 character is above 0x7f, never a quote, backslash or bracket). Counting
 * stops once past `limit`. For a text that is not JSON the count means nothing; the parser
 * refuses it after.
 */
export function countJsonItems(bytes: Uint8Array, limit = Infinity): number {
  let count = 0;
  let inString = false;
  let justOpened = false;
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i += 1;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === COMMA || byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      count += 1;
      if (count > limit) return count;
      justOpened = byte !== COMMA;
      continue;
    }
    if (justOpened && (byte === CLOSE_BRACE || byte === CLOSE_BRACKET)) count -= 1;
    else if (byte === QUOTE) inString = true;
    if (!isJsonSpace(byte)) justOpened = false;
  }
  return count;
}

/**
 * body-parser's `verify` hook for JSON bodies: runs on the raw bytes once they are read, before
 * JSON.parse, so a body that would cost more to parse and validate than any request of this API
 * needs is refused for the price of one pass over it (~2 ms a MB): 400 VALIDATION_FAILED. A
 * body in another charset than UTF-8 is 415: the count reads UTF-8 bytes (in UTF-7 or UTF-16 a
 * quote or comma is other bytes), and RFC 8259 asks for UTF-8 between systems.
 */
export function refuseCostlyJson(_request: IncomingMessage, _response: ServerResponse, body: Buffer, encoding: string | null): void {
  if (encoding !== null && encoding !== 'utf-8') {
    throw new DomainError(
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      'JSON bodies are UTF-8: send Content-Type: application/json without a charset, or with charset=utf-8.',
    );
  }
  if (countJsonItems(body, MAX_JSON_ITEMS) > MAX_JSON_ITEMS) {
    throw new ValidationFailed(
      `The request body has more than ${MAX_JSON_ITEMS.toLocaleString('en')} fields and array items; no request of this API has more than a few dozen.`,
    );
  }
}
