import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';
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
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'VALIDATION_FAILED: invalid body or parameters; the message names the field.',
  404: '…_NOT_FOUND: unknown user, session or chat, or not that user\'s.',
  409: 'USER_EXISTS: the user_id is taken.',
  413: 'PAYLOAD_TOO_LARGE: body over 1 MiB.',
  422: 'CONTENT_BLOCKED: Gemini blocked the prompt or returned no text. Nothing is stored.',
  502: 'UPSTREAM_ERROR: Gemini failed, was unreachable, sent a malformed reply, or does not serve the model. Nothing is stored.',
  503: 'UPSTREAM_RATE_LIMITED: Gemini rate-limited the service (see Retry-After). Nothing is stored.',
  504: 'UPSTREAM_TIMEOUT: Gemini did not answer within GEMINI_TIMEOUT_MS. Nothing is stored.',
};

/** Documents the error bodies a route can answer with. */
export function ApiErrorResponses(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: DESCRIPTIONS[status], type: ErrorBodyDto })),
  );
}

/** The statuses of a Gemini turn besides success. */
export const TURN_ERRORS = [400, 404, 413, 422, 502, 503, 504];
