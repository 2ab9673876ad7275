import { describe, expect, it } from 'vitest';
import { joinLines, linesInSlices } from './xml.js';

function* lines(n: number): Generator<string> {
  // Multi-byte text, so that a slice boundary inside a character would show.
  for (let i = 0; i < n; i++) yield `<name>Parkhaus ${i} „Kö“ & 🅿️</name>`;
}

describe('linesInSlices', () => {
  it('gives the bytes joinLines gives, for any number of lines and slice size', async () => {
    for (const [n, perSlice] of [[0, 100], [1, 100], [99, 100], [100, 100], [250, 100], [7, 1], [7, 3]] as const) {
      const sliced = await linesInSlices(lines(n), perSlice);
      expect(sliced.equals(Buffer.from(joinLines(lines(n)), 'utf8')), `${n} lines, ${perSlice} per slice`).toBe(true);
    }
    expect(joinLines(['a', 'b'])).toBe('a\nb\n');
  });

  it('lets the event loop run between slices', async () => {
    let turns = 0;
    let spinning = true;
    const spin = (): void => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const pulled: number[] = [];
    function* counted(): Generator<string> {
      for (let i = 0; i < 1000; i++) {
        pulled.push(turns);
        yield `line ${i}`;
      }
    }
    await linesInSlices(counted(), 100);
    spinning = false;
    // Ten slices: other callbacks ran between them, and the lines were pulled slice by
    // slice (the last slice's lines after nine turns at least), not all at once.
    expect(turns).toBeGreaterThanOrEqual(9);
    expect(pulled[999]! - pulled[0]!).toBeGreaterThanOrEqual(9);
  });
});
