import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiProperty, ApiResponse } from '@nestjs/swagger';
import { ErrorCode } from './errors.js';

export class ErrorBodyDto {
  @ApiProperty({ example: 404 })
  statusCode: number;

  @ApiProperty({ example: 'Not Found' })
  error: string;

  @ApiProperty({ enum: ErrorCode, example: ErrorCode.SESSION_NOT_FOUND })
  code: ErrorCode;

  @ApiProperty({ example: 'Session "0b5c…" was not found.' })
  message: string;

  // Only on refusals of a call Gemini billed (CONTENT_BLOCKED, UPSTREAM_ERROR, UPSTREAM_TIMEOUT after
  // usage was reported): what it cost, recorded in the spend ledger before this answer.
  @ApiProperty({
    required: false,
    nullable: true,
    type: Object,
    additionalProperties: { type: 'integer' },
    description: 'Token counts of the refused call, as on a model message (null when Gemini reported no valid counts).',
    example: { prompt_tokens: 1000, cached_tokens: 0, output_tokens: 0, thoughts_tokens: 8192, total_tokens: 9192 },
  })
  usage?: Record<string, number> | null;

  @ApiProperty({
    required: false,
    nullable: true,
    type: Number,
    description: 'What the refused call cost, USD (null when unpriced).',
    example: 0.02078,
  })
  cost_usd?: number | null;

  @ApiProperty({ required: false, enum: ['priced', 'estimated', 'unpriced'], description: 'What that cost rests on.' })
  cost_status?: string;

  @ApiProperty({ required: false, nullable: true, type: String, description: 'The model whose rates priced it.' })
  priced_as?: string | null;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'VALIDATION_FAILED: invalid body or parameters; the message names the field.',
  401: 'UNAUTHORIZED: ADMIN_API_KEY is set and no valid Bearer key was sent.',
  403: 'FORBIDDEN: the key may not do this (e.g. only the admin key issues keys or sets budgets).',
  404: "…_NOT_FOUND: unknown user, session or chat, or not that user's.",
  409: 'USER_EXISTS: the user_id is taken; or IDEMPOTENCY_IN_PROGRESS: the first request with this Idempotency-Key still runs (see Retry-After).',
  413: 'PAYLOAD_TOO_LARGE: body over 1 MiB.',
  415: 'UNSUPPORTED_MEDIA_TYPE: a body that is not Content-Type: application/json.',
  422:
    'CONTENT_BLOCKED: Gemini blocked the prompt or returned no text (no message is stored; when Gemini billed the call, the body says what it cost and the ledger has it); IDEMPOTENCY_KEY_REUSED: the key was used with another request; ' +
    'CONTEXT_TOO_LONG: the prompt is over the context limit and truncation is disabled, or the system instruction and the message alone are (nothing is sent or stored); ' +
    'MODEL_UNPRICED: a user under a daily budget cannot use a model with no price.',
  429: "RATE_LIMITED: more than RATE_LIMIT_PER_MINUTE turns, new sessions and uploads; or BUDGET_EXCEEDED: the user's daily limit is spent. See Retry-After. Nothing is sent to Gemini.",
  502: 'UPSTREAM_ERROR: Gemini failed, was unreachable, sent a malformed or oversized reply, or does not serve the model. No message is stored; a call Gemini billed is in the ledger and its cost in the body.',
  503: 'UPSTREAM_RATE_LIMITED: Gemini rate-limited the service (see Retry-After). Nothing is stored. Or NOT_READY: this instance is migrating its database or shutting down; retry (Retry-After: 1).',
  504: 'UPSTREAM_TIMEOUT: Gemini did not answer within GEMINI_TIMEOUT_MS. No message is stored; a call Gemini billed is in the ledger and its cost in the body.',
};

/** Documents the error bodies a route can answer with. */
export function ApiErrorResponses(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, description: DESCRIPTIONS[status], type: ErrorBodyDto })));
}

/** The statuses of a Gemini turn besides success. */
export const TURN_ERRORS = [400, 401, 404, 409, 413, 415, 422, 429, 502, 503, 504];

/** Documents the Idempotency-Key request header. */
export function ApiIdempotencyKey(): MethodDecorator {
  return ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    // The rule idempotency/idempotency-key.ts checks (KEY_PATTERN): 1–255 visible ASCII characters.
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]{1,255}$' },
    description:
      '1–255 visible characters. The same key and body within 24 h replays the first answer (header Idempotent-Replayed: true) ' +
      'without reaching Gemini again; another body is 422, a first request still running is 409. Failures upstream are not remembered.',
  });
}
