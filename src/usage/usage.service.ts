import { Injectable } from '@nestjs/common';
import { ValidationFailed } from '../common/errors.js';
import { DAY_MS } from '../core/clock.js';
import { UsersService } from '../users/users.service.js';
import { UsageRepository } from './usage.repository.js';
import type { TimeRange, UsageReport } from './usage.repository.js';

@Injectable()
export class UsageService {
  constructor(
    private readonly usage: UsageRepository,
    private readonly users: UsersService,
  ) {}

  /** The user's usage in [from, to): bounds as the query gives them (UTC dates or timestamps). */
  async report(userId: string, from: string | undefined, to: string | undefined): Promise<{ range: TimeRange; report: UsageReport }> {
    const start = usageBound('from', from, false);
    const end = usageBound('to', to, true);
    if (start !== null && end !== null && start >= end) throw new ValidationFailed('from: must be before to');
    // A deleted user's spend stays readable (by the admin: their keys went with them).
    if (!(await this.usage.hasSpendOf(userId))) await this.users.get(userId);
    const range = { from: start === null ? null : new Date(start).toISOString(), to: end === null ? null : new Date(end).toISOString() };
    return { range, report: await this.usage.report(userId, range) };
  }
}

/** Past every timestamp the service writes (ISO-8601 has four-digit years): an end there is no end. */
const END_OF_TIME = Date.UTC(10_000, 0, 1);

// ISO-8601 as clients write it: any fraction (milliseconds count), offsets with or without a colon.
const BOUND = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?))?$/;

/**
 * A date-only bound is a UTC day: `from` its start, `to` its end (so the day counts whole).
 * Dates must exist (2026-02-30 is refused, never rolled over into March). Epoch milliseconds,
 * or null for an open end.
 */
function usageBound(name: 'from' | 'to', value: string | undefined, end: boolean): number | null {
  if (value === undefined) return null;
  const parts = BOUND.exec(value);
  const [year, month, day, hour = 0, minute = 0, second = 0] = (parts?.slice(1, 7) ?? []).map((part) =>
    part === undefined ? undefined : Number(part),
  ) as number[];
  const milliseconds = Number((parts?.[7] ?? '').padEnd(3, '0').slice(0, 3));
  const offsetSign = parts?.[8] === '-' ? -1 : 1;
  const [offsetHours = 0, offsetMinutes = 0] = (parts?.slice(9, 11) ?? []).map((part) =>
    part === undefined ? undefined : Number(part),
  ) as number[];
  const date = parts ? new Date(0) : null;
  date?.setUTCFullYear(year, month - 1, day); // not Date.UTC: it reads years 0–99 as 1900–1999
  const real =
    date !== null &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60 &&
    offsetHours < 24 &&
    offsetMinutes < 60;
  if (!real) throw new ValidationFailed(`${name}: ${JSON.stringify(value.slice(0, 40))} is not a real date or time`);
  const dateOnly = value.length === 10;
  const time = dateOnly
    ? date.getTime() + (end ? DAY_MS : 0)
    : date.getTime() + ((hour * 60 + minute - offsetSign * (offsetHours * 60 + offsetMinutes)) * 60 + second) * 1000 + milliseconds;
  if (time < END_OF_TIME) return time;
  // Past the calendar ISO-8601 text can hold: an end there is no end; a start there leaves nothing.
  if (end) return null;
  throw new ValidationFailed(`from: ${JSON.stringify(value.slice(0, 40))} is past the end of the calendar`);
}
