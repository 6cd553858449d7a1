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

/** One nullable BIGINT column per token class, named as the class (see token-usage.ts). */
export function tokenColumns(entity: new () => object): void {
  for (const { key, name } of TOKEN_CLASSES) Column(integerColumn(name))(entity.prototype, key);
}
