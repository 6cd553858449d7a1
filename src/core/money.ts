/**
 * Money, exactly. Amounts are integer nano-dollars (1e-9 USD) everywhere they are stored or
 * summed; dollars exist only at the edges: parsed from configuration and request bodies,
 * printed in responses. Every conversion lives here, and none of them multiplies a float.
 */
export const NANO_PER_USD = 1_000_000_000;
const NANO_DECIMALS = 9;
/** Rates are USD per 1M tokens; as pico-dollars per token they are integers with 6 decimals of a dollar rate. */
const RATE_DECIMALS = 6;
const PICO_PER_NANO = 1000;

const PLAIN_DECIMAL = /^\d+(?:\.\d+)?$/;
const NUMBER_TEXT = /^(\d+)(?:\.(\d*))?(?:e([+-]?\d{1,3}))?$/i;

/**
 * The decimal `text` times 10^decimals as an integer, or null when that is not a whole number
 * (more decimals than allowed) or not a safe integer. Exact: digits are shifted, never multiplied.
 */
function scaled(text: string, decimals: number): number | null {
  const match = NUMBER_TEXT.exec(text);
  if (!match) return null;
  const fraction = match[2] ?? '';
  const digits = match[1] + fraction;
  const shift = Number(match[3] ?? 0) - fraction.length + decimals;
  let value: bigint;
  if (shift >= 0) {
    value = BigInt(digits) * 10n ** BigInt(shift);
  } else {
    const keep = digits.length + shift;
    if (/[1-9]/.test(digits.slice(Math.max(0, keep)))) return null;
    value = BigInt(digits.slice(0, Math.max(0, keep)) || '0');
  }
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : null;
}

/**
 * Dollars to nano-dollars, exactly, or null when the amount is negative, not finite, or has more
 * than nine decimals. A string must be a plain decimal (`5`, `0.25`); a number is read from its
 * shortest decimal form (`String(1e-7)` is "1e-7"), which is what the client wrote.
 */
export function usdToNano(usd: number | string): number | null {
  if (typeof usd === 'string') return PLAIN_DECIMAL.test(usd) ? scaled(usd, NANO_DECIMALS) : null;
  if (!Number.isFinite(usd) || usd < 0) return null;
  return scaled(String(usd), NANO_DECIMALS);
}

/** Nano-dollars to dollars, for responses only: sums are taken over the integers before this. */
export function nanoToUsd(nano: number): number;
export function nanoToUsd(nano: number | null): number | null;
export function nanoToUsd(nano: number | null): number | null {
  return nano === null ? null : nano / NANO_PER_USD;
}

/** A rate in USD per 1M tokens as whole pico-dollars per token, or null past six decimals. */
export function ratePicoPerToken(usdPerMillion: number): number | null {
  if (!Number.isFinite(usdPerMillion) || usdPerMillion < 0) return null;
  return scaled(String(usdPerMillion), RATE_DECIMALS);
}

/** A call's cost in pico-dollars, rounded half up to the nano-dollar that is stored. */
export function picoToNano(pico: number): number {
  return Math.floor((pico + PICO_PER_NANO / 2) / PICO_PER_NANO);
}
