import { Column } from 'typeorm';
import type { ColumnOptions, ValueTransformer } from 'typeorm';
import { TOKEN_CLASSES } from '../core/token-usage.js';

/**
 * PostgreSQL returns BIGINT as a string; SQLite returns a number. Counts and nano-dollars stay
 * far below 2^53, so a JS number is exact either way.
 */
const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

export function integerColumn(name: string): ColumnOptions {
  return { name, type: 'bigint', nullable: true, transformer: bigintAsNumber };
}

/**
 * Timestamps are ISO-8601 UTC text with milliseconds (`2026-11-22T10:00:00.123Z`) in the code,
 * on the wire and in both databases, so they sort and compare alike everywhere.
 */
export function timestampColumn(name: string): ColumnOptions {
  return { name, type: 'varchar', length: 30 };
}

/** A running total: a BIGINT that starts at 0 and is never null. */
export function totalColumn(name: string): ColumnOptions {
  return { ...integerColumn(name), nullable: false, default: 0 };
}

/**
 * One BIGINT column per token class, named as the class (see token-usage.ts): nullable where a
 * row may have no counts (a user's message), a total from 0 where every row has them.
 */
export function tokenColumns(entity: new () => object, { nullable }: { nullable: boolean }): void {
  const prototype = entity.prototype as object;
  for (const { key, name } of TOKEN_CLASSES) Column(nullable ? integerColumn(name) : totalColumn(name))(prototype, key);
}
