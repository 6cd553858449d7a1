import type { ColumnOptions, ValueTransformer } from 'typeorm';

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
 * Timestamps are written by the service (millisecond precision, UTC) as ISO-8601 text on
 * SQLite and timestamptz on PostgreSQL; the transformer hands the code a Date either way.
 */
const isoTimestamp: ValueTransformer = {
  to: (value: Date | undefined) => value?.toISOString(),
  from: (value: string | Date) => (value instanceof Date ? value : new Date(value)),
};

export function timestampColumn(name: string): ColumnOptions {
  return { name, type: 'varchar', length: 30, transformer: isoTimestamp };
}
