/**
 * Time as the service writes it: ISO-8601 UTC text with milliseconds
 * (`2026-11-22T10:00:00.123Z`), in the code, on the wire and in both databases, so that it sorts
 * and compares alike everywhere.
 */
export function now(): string {
  return new Date().toISOString();
}

export const DAY_MS = 86_400_000;

/** The UTC day (`YYYY-MM-DD`) of an ISO-8601 UTC timestamp. */
export function utcDay(timestamp: string): string {
  return timestamp.slice(0, 10);
}
