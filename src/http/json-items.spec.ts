import fc from 'fast-check';
import { countJsonItems } from './json-items.js';

/** What the byte count must agree with: members and items of the parsed value, at every depth. */
function itemsOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return children.length + children.reduce((sum: number, child) => sum + itemsOf(child), 0);
}

const count = (text: string, limit?: number) => countJsonItems(Buffer.from(text, 'utf8'), limit);

describe('countJsonItems', () => {
  it.each([
    ['{}', 0],
    ['[]', 0],
    ['"a, [string] {with: \\"quotes\\", commas}"', 0],
    ['{"message":"hi"}', 1],
    [' { "a" : [ 1 , 2 , [ ] , { } ] , "b" : { "c" : null } } ', 7],
    ['[[[[]]]]', 3],
    ['{"k\\\\":"v\\\\","x,y":"é, ü: {[\\u0022"}', 2],
  ])('counts %s as %d', (text, items) => {
    expect(count(text)).toBe(items);
    expect(itemsOf(JSON.parse(text))).toBe(items);
  });

  it('agrees with JSON.parse on any JSON text, however it is spaced', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5, stringUnit: 'binary' }), fc.constantFrom(undefined, 1, '\t'), (value, space) => {
        const text = JSON.stringify(value, null, space);
        expect(count(text)).toBe(itemsOf(JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });

  it('stops counting once past the limit', () => {
    expect(count(JSON.stringify(Array(5_000).fill(0)), 1_000)).toBe(1_001);
    expect(count('['.repeat(100_000), 1_000)).toBe(1_001);
  });
});
