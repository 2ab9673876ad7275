import { describe, expect, it } from 'vitest';
import { commandTable } from './main.js';

describe('stadtfunk --help', () => {
  it('shows for each command the summary its module gives', async () => {
    const table = commandTable();
    expect(Object.keys(table).length).toBeGreaterThanOrEqual(7);
    for (const [name, entry] of Object.entries(table)) {
      const command = await entry.load();
      if (entry.summary !== null) expect(entry.summary, name).toBe(command.summary);
    }
  }, 60_000);
});
