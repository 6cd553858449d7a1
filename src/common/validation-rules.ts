import { applyDecorators } from '@nestjs/common';
import { IsString, Length, Matches, MaxLength, ValidateBy } from 'class-validator';
import { usdToNano } from '../pricing/money.js';

/** User ids are chosen by clients (the original API took any string) but travel in paths. */
export const USER_ID_PATTERN = /^(?!\s)[^/\\?#%\p{Cc}]{1,128}(?<!\s)$/u;

export function IsUserId(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    Length(1, 128),
    Matches(USER_ID_PATTERN, { message: '$property must be 1–128 characters without slashes, ?, #, % or control characters, and not start or end with a space' }),
  );
}

/** Letters and digits in runs joined by single `.`, `-` or `_` (the SDK refuses `..` in a model name). */
export const MODEL_ID_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/i;

export function IsModelId(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    MaxLength(100),
    Matches(MODEL_ID_PATTERN, { message: '$property must be a Gemini model id such as gemini-2.5-flash' }),
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
