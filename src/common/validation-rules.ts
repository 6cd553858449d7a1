import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Length, Matches, Max, MaxLength, Min, ValidateBy } from 'class-validator';
import { usdToNano } from '../core/money.js';

/** User ids are chosen by clients (the original API took any string) but travel in paths. */
export const USER_ID_PATTERN = /^(?!\s)[^/\\?#%\p{Cc}]{1,128}(?<!\s)$/u;

/**
 * The same pattern for the OpenAPI document, without `\p{Cc}` (the C0 and C1 controls spelled out):
 * JSON Schema validators compile patterns without the `u` flag, and then `\p{…}` is no class.
 */
const USER_ID_PATTERN_IN_SCHEMAS = '^(?!\\s)[^/\\\\?#%\\x00-\\x1f\\x7f-\\x9f]{1,128}(?<!\\s)$';

export function IsUserId(): PropertyDecorator {
  return applyDecorators(
    // The same rule in the OpenAPI document (merged into the property's own @ApiProperty).
    ApiProperty({ minLength: 1, maxLength: 128, pattern: USER_ID_PATTERN_IN_SCHEMAS }),
    IsString(),
    Length(1, 128),
    Matches(USER_ID_PATTERN, {
      message: '$property must be 1–128 characters without slashes, ?, #, % or control characters, and not start or end with a space',
    }),
  );
}

/** Letters and digits in runs joined by single `.`, `-` or `_` (the SDK refuses `..` in a model name). */
export const MODEL_ID_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/i;

export function IsModelId(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ maxLength: 100, pattern: MODEL_ID_PATTERN.source }),
    IsString(),
    MaxLength(100),
    Matches(MODEL_ID_PATTERN, { message: '$property must be a Gemini model id such as gemini-3.5-flash-lite' }),
  );
}

/** A non-negative amount of US dollars with at most nine decimals: exactly some nano-dollars. */
export function IsUsdAmount(): PropertyDecorator {
  return ValidateBy({
    name: 'isUsdAmount',
    validator: {
      validate: (value: unknown) => typeof value === 'number' && usdToNano(value) !== null,
      defaultMessage: () => '$property must be an amount of US dollars, not negative, with at most 9 decimals',
    },
  });
}

/** Token counts a client may set: whole numbers from 1 (a session's context limit). */
export const LARGEST_TOKEN_LIMIT = 2_147_483_647;

export function IsTokenLimit(): PropertyDecorator {
  const message = `$property must be a whole number of tokens from 1 to ${LARGEST_TOKEN_LIMIT}, or null`;
  return applyDecorators(
    ApiProperty({ type: 'integer', minimum: 1, maximum: LARGEST_TOKEN_LIMIT }),
    IsInt({ message }),
    Min(1, { message }),
    Max(LARGEST_TOKEN_LIMIT, { message }),
  );
}
