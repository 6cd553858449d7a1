import { inspect } from 'node:util';

/**
 * Waiting in specs, all of it here. Something that will happen is awaited by polling what shows
 * it (`waitFor`), never by sleeping a guessed time; a fixed time is let pass (`elapse`) only when
 * the time itself is what is tested.
 */

export interface WaitOptions<T> {
  /** When to stop: by default, once the probe returns something truthy. */
  until?: (value: T) => boolean;
  /**
   * Give up after this long. The default stays under jest's own 5 s per test, so a wait that
   * never ends fails with its own message; specs with longer timeouts pass longer waits.
   */
  timeoutMs?: number;
  /** Pause between two probes. */
  everyMs?: number;
}

export const WAIT_TIMEOUT_MS = 4_000;

/**
 * Calls `probe` until `until` holds of what it returns, and resolves with that value. After
 * `timeoutMs` it fails, naming `what` it waited for and the last value seen. An error thrown by
 * the probe ends the wait with that error.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  { until = Boolean, timeoutMs = WAIT_TIMEOUT_MS, everyMs = 20 }: WaitOptions<T> = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (until(value)) return value;
    if (Date.now() >= deadline) {
      const seen = inspect(value, { depth: 3, maxArrayLength: 10, maxStringLength: 500, breakLength: Infinity });
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Lets `ms` pass. Only where a fixed time is what is tested — that something does NOT happen
 * within it — and `why` says so; anything that is to happen is awaited with `waitFor`.
 */
export function elapse(ms: number, why: string): Promise<void> {
  void why;
  return new Promise((resolve) => setTimeout(resolve, ms));
}
