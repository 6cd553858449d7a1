import { Injectable } from '@nestjs/common';
import { ValidationFailed } from '../common/errors.js';
import { UsersService } from '../users/users.service.js';
import { UsageRepository } from './usage.repository.js';
import type { TimeRange, UsageReport } from './usage.repository.js';

const DAY_MS = 86_400_000;

@Injectable()
export class UsageService {
  constructor(
    private readonly usage: UsageRepository,
    private readonly users: UsersService,
  ) {}

  /** The user's usage in [from, to): bounds as the query gives them (UTC dates or timestamps). */
  async report(userId: string, from: string | undefined, to: string | undefined): Promise<{ range: TimeRange; report: UsageReport }> {
    const start = usageBound(from, false);
    const end = usageBound(to, true);
    if ((start && Number.isNaN(start.getTime())) || (end && Number.isNaN(end.getTime()))) {
      throw new ValidationFailed('from/to: not a real date');
    }
    if (start && end && start >= end) throw new ValidationFailed('from: must be before to');
    // A deleted user's spend stays readable (by the admin: their keys went with them).
    if (!(await this.usage.hasSpendOf(userId))) await this.users.get(userId);
    const range = { from: start?.toISOString() ?? null, to: end?.toISOString() ?? null };
    return { range, report: await this.usage.report(userId, range) };
  }

}

/** A date-only bound is a UTC day: `from` its start, `to` its end (so the day counts whole). */
function usageBound(value: string | undefined, end: boolean): Date | null {
  if (value === undefined) return null;
  const dateOnly = value.length === 10;
  const time = Date.parse(dateOnly ? `${value}T00:00:00.000Z` : value);
  return new Date(dateOnly && end ? time + DAY_MS : time);
}
