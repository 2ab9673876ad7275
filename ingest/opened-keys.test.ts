import { describe, expect, it } from 'vitest';
import { OpenedKeys } from './opened-keys.js';

describe('OpenedKeys', () => {
  const opener = () => {
    const opened: string[] = [];
    return { opened, open: (sealed: string, aad: string) => (opened.push(`${aad}/${sealed}`), Buffer.from(`${aad}/${sealed}`)) };
  };

  it('gives the same Buffer for a key it keeps, and opens a changed sealed form or another AAD anew', () => {
    const { opened, open } = opener();
    const keys = new OpenedKeys(open, 10);
    const key = keys.get('v1:a', 'dev1:appKey');
    expect(keys.get('v1:a', 'dev1:appKey')).toBe(key);
    expect(keys.get('v1:b', 'dev1:appKey')).not.toBe(key);
    expect(keys.get('v1:a', 'dev2:appKey')).not.toBe(key);
    expect(opened).toEqual(['dev1:appKey/v1:a', 'dev1:appKey/v1:b', 'dev2:appKey/v1:a']);
  });

  it('keeps the newest `max` keys: the oldest is opened again, the newest not', () => {
    const { opened, open } = opener();
    const keys = new OpenedKeys(open, 3);
    for (const device of ['d1', 'd2', 'd3', 'd4', 'd5']) keys.get('v1:x', device);
    expect(keys.size).toBe(3);
    keys.get('v1:x', 'd5');
    keys.get('v1:x', 'd3');
    keys.get('v1:x', 'd1');
    expect(opened).toEqual(['d1/v1:x', 'd2/v1:x', 'd3/v1:x', 'd4/v1:x', 'd5/v1:x', 'd1/v1:x']);
  });

  it('keeps nothing for a key that does not open', () => {
    const keys = new OpenedKeys(() => {
      throw new Error('tampered');
    }, 3);
    expect(() => keys.get('v1:bad', 'd1')).toThrow('tampered');
    expect(keys.size).toBe(0);
  });
});
