import { titleFrom } from './turn.service.js';

describe('titleFrom', () => {
  it.each([
    ['Hello', 'Hello'],
    ['  spaced\n\tout  ', 'spaced out'],
    ['x'.repeat(60), 'x'.repeat(60)],
    [
      'Plan a three-day trip to Lisbon with good food, museums and a day at the beach',
      'Plan a three-day trip to Lisbon with good food, museums and…',
    ],
    ['y'.repeat(80), `${'y'.repeat(60)}…`],
    ['😀'.repeat(70), `${'😀'.repeat(60)}…`],
  ])('names a session after %j', (message, title) => {
    expect(titleFrom(message)).toBe(title);
  });
});
