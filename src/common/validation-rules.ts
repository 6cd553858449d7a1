import { applyDecorators } from '@nestjs/common';
import { IsString, Length, Matches } from 'class-validator';

/** User ids are chosen by clients (the original API took any string) but travel in paths. */
export const USER_ID_PATTERN = /^(?!\s)[^/\\?#%\p{Cc}]{1,128}(?<!\s)$/u;

export function IsUserId(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    Length(1, 128),
    Matches(USER_ID_PATTERN, { message: '$property must be 1–128 characters without slashes, ?, #, % or control characters, and not start or end with a space' }),
  );
}

export const MODEL_ID_PATTERN = /^[a-z0-9][\w.-]{0,99}$/i;

export function IsModelId(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    Matches(MODEL_ID_PATTERN, { message: '$property must be a Gemini model id such as gemini-2.5-flash' }),
  );
}
