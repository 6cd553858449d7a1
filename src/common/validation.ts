import { ValidationPipe } from '@nestjs/common';
import type { ArgumentMetadata } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import type { ValidationError } from 'class-validator';
import { DomainError, ValidationFailed } from './errors.js';

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) =>
      // class-validator phrases unknown fields as "property x should not exist": name the field first.
      text.startsWith(`property ${error.property} `) ? `${path}: unknown field` : `${path}: ${text}`,
    );
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/** No request of this API nests deeper; class-transformer recurses and would blow the stack. */
const MAX_DEPTH = 8;
/** Keys that class-transformer and class-validator do not see as fields at all. */
const OBJECT_INTERNALS = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/**
 * What the validators cannot be trusted with: nesting deep enough to overflow the stack, keys
 * that shadow JavaScript object internals (they slip past `forbidNonWhitelisted`), strings
 * with lone UTF-16 surrogates (not Unicode: validators throw on them, and SQLite would store a
 * replacement character instead of what was sent), and U+0000 anywhere (PostgreSQL cannot store
 * it in text: refused on every database alike, before anything is stored or sent). Returns the
 * problem, or null.
 */
export function unreadable(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') {
    if (!value.isWellFormed()) return `${path || 'value'}: is not valid Unicode (lone surrogate)`;
    return value.includes('\u0000') ? `${path || 'value'}: must not contain U+0000 (NUL)` : null;
  }
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= MAX_DEPTH) return `${path || 'body'}: nested too deeply`;
  for (const [key, item] of Object.entries(value)) {
    const where = path ? `${path}.${key}` : key;
    if (!Array.isArray(value) && OBJECT_INTERNALS.has(key)) return `${where}: unknown field`;
    if (key.includes('\u0000')) return `${JSON.stringify(where).slice(1, -1).slice(0, 100)}: a field name must not contain U+0000 (NUL)`;
    const problem = unreadable(item, where, depth + 1);
    if (problem) return problem;
  }
  return null;
}

/** Unknown fields named in a refusal; the rest are counted. */
const NAMED_UNKNOWN_FIELDS = 5;
const knownFieldsOf = new WeakMap<object, Set<string>>();

/** The fields a DTO class declares (what `whitelist` keeps), or null for a type without validation. */
function knownFields(metatype: ArgumentMetadata['metatype']): Set<string> | null {
  if (typeof metatype !== 'function') return null;
  let known = knownFieldsOf.get(metatype);
  if (!known) {
    const declared = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
    known = new Set(declared.map((field) => field.propertyName));
    knownFieldsOf.set(metatype, known);
  }
  return known.size > 0 ? known : null;
}

/**
 * Unknown top-level fields, found in one pass: class-validator reports them in time quadratic
 * in their number (80,000 fields took seconds) and with an error body twice the request's size.
 */
function unknownFields(value: unknown, metatype: ArgumentMetadata['metatype']): string | null {
  const known = knownFields(metatype);
  if (!known || typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const unknown: string[] = [];
  let count = 0;
  for (const key of Object.keys(value)) {
    if (known.has(key)) continue;
    count += 1;
    if (unknown.length < NAMED_UNKNOWN_FIELDS) unknown.push(`${key.slice(0, 100)}: unknown field`);
  }
  if (count === 0) return null;
  return count > unknown.length ? `${unknown.join('; ')}; and ${count - unknown.length} more unknown fields` : unknown.join('; ');
}

/**
 * Strict validation: unknown fields are refused, the message names the bad fields, and a value
 * a validator chokes on is a 400 — never a 500. What it costs to refuse grows with the size of
 * the request, not its square.
 */
class StrictValidationPipe extends ValidationPipe {
  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const problem = unreadable(value) ?? unknownFields(value, metadata.metatype);
    if (problem) throw new ValidationFailed(problem);
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (error instanceof DomainError) throw error;
      throw new ValidationFailed(`${metadata.type}: has a value that cannot be validated`);
    }
  }
}

export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => new ValidationFailed(flatten(errors).join('; ') || 'The request is not valid.'),
  });
}
