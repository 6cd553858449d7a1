import { ConsoleLogger } from '@nestjs/common';
import type { LogLevel } from '@nestjs/common';

/** TEST_LOGS=1 prints what the apps of a run log, as well as keeping it. */
const PRINT = process.env.TEST_LOGS === '1';

/**
 * Nest's logger for tests: every line it would print is kept in `lines` instead, as
 * `LEVEL [Context] message` (an error's stack on the lines after it), and nothing is printed, so
 * a green run stays quiet while what a spec provoked can still be read and asserted on.
 */
export class MemoryLogger extends ConsoleLogger {
  readonly lines: string[] = [];

  constructor(logLevels: LogLevel[] = ['error', 'warn']) {
    super({ logLevels, colors: false });
  }

  protected override printMessages(
    messages: unknown[],
    context = '',
    logLevel: LogLevel = 'log',
    writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
    params?: Record<string, any>,
  ): void {
    const where = context ? `[${context}] ` : '';
    const extra = params ? ` ${this.stringifyParams(params)}` : '';
    const stack = typeof errorStack === 'string' && errorStack !== '' ? `\n${errorStack}` : '';
    for (const message of messages) {
      this.lines.push(`${logLevel.toUpperCase()} ${where}${this.stringifyMessage(message, logLevel)}${extra}${stack}`);
    }
    if (PRINT) super.printMessages(messages, context, logLevel, writeStreamType, errorStack, params);
  }

  protected override printStackTrace(stack: string): void {
    if (PRINT) super.printStackTrace(stack);
  }
}
