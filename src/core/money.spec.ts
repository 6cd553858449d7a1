import { NANO_PER_USD, nanoToUsd, picoToNano, ratePicoPerToken, usdToNano } from './money.js';

describe('money', () => {
  describe('usdToNano', () => {
    it.each<[string, number | string, number | null]>([
      ['a whole number', 5, 5_000_000_000],
      ['zero', 0, 0],
      ['a quarter', 0.25, 250_000_000],
      ['a number printed with an exponent (1e-7)', 1e-7, 100],
      ['one nano-dollar', 0.000000001, 1],
      ['nine decimals', 1.123456789, 1_123_456_789],
      ['a number with a positive exponent (1e21, past 2^53 nano)', 1e21, null],
      ['the largest safe amount', '9007199.254740991', Number.MAX_SAFE_INTEGER],
      ['one past the largest safe amount', '9007199.254740992', null],
      ['ten decimals (1e-10)', 1e-10, null],
      ['0.1 + 0.2, whose shortest form has 17 decimals', 0.1 + 0.2, null],
      ['a negative number', -1, null],
      ['NaN', Number.NaN, null],
      ['Infinity', Number.POSITIVE_INFINITY, null],
      ['-Infinity', Number.NEGATIVE_INFINITY, null],
      ['a plain decimal string', '12.5', 12_500_000_000],
      ['a whole-number string', '5', 5_000_000_000],
      ['a string with nine decimals', '0.000000001', 1],
      ['a string with trailing zeros past nine decimals', '1.0000000000', 1_000_000_000],
      ['a string with ten significant decimals', '0.0000000001', null],
      ['an exponent string', '1e3', null],
      ['a negative string', '-1', null],
      ['a string with a leading dot', '.5', null],
      ['a string with a trailing dot', '5.', null],
      ['a string with spaces', ' 5', null],
      ['an empty string', '', null],
      ['a string with a thousands separator', '1,000', null],
      ['"Infinity"', 'Infinity', null],
    ])('%s: %p → %p', (_what, usd, nano) => {
      expect(usdToNano(usd)).toBe(nano);
    });
  });

  describe('nanoToUsd', () => {
    it.each<[number | null, number | null]>([
      [null, null],
      [0, 0],
      [1, 1e-9],
      [1_288_500, 0.0012885],
      [NANO_PER_USD, 1],
      [12_500_000_000, 12.5],
    ])('%p nano-dollars → %p USD', (nano, usd) => {
      expect(nanoToUsd(nano)).toBe(usd);
    });

    it('round-trips every amount with at most nine decimals', () => {
      for (const usd of ['0.000000001', '0.0012885', '0.25', '5', '12.5', '1234.567891234']) {
        expect(nanoToUsd(usdToNano(usd)!)).toBe(Number(usd));
      }
    });
  });

  describe('ratePicoPerToken', () => {
    it.each<[number, number | null]>([
      [0, 0],
      [0.3, 300_000],
      [2.5, 2_500_000],
      [1.25, 1_250_000],
      [0.125, 125_000],
      [0.03, 30_000],
      [10, 10_000_000],
      [0.000001, 1],
      [1e-7, null],
      [0.1234567, null],
      [-0.3, null],
      [Number.NaN, null],
      [Number.POSITIVE_INFINITY, null],
    ])('%p USD per 1M tokens → %p pico-dollars per token', (usdPerMillion, pico) => {
      expect(ratePicoPerToken(usdPerMillion)).toBe(pico);
    });
  });

  describe('picoToNano', () => {
    it.each([
      [0, 0],
      [1, 0],
      [499, 0],
      [500, 1],
      [501, 1],
      [1_000, 1],
      [1_499, 1],
      [1_500, 2],
      [2_500, 3],
      [3_500, 4],
      [1_234_567_499, 1_234_567],
      [1_234_567_500, 1_234_568],
    ])('%p pico-dollars → %p nano-dollars (half up)', (pico, nano) => {
      expect(picoToNano(pico)).toBe(nano);
    });
  });
});
