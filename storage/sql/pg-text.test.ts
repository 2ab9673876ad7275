import { describe, expect, it } from 'vitest';
import { pgJsonText, pgText } from './pg-text.js';

describe('pgText and pgJsonText', () => {
  it('replace NUL with U+FFFD in text and leave other text as it is', () => {
    expect(pgText('a\u0000b\u0000')).toBe('a\uFFFDb\uFFFD');
    const plain = 'Straße 7, Düsseldorf';
    expect(pgText(plain)).toBe(plain);
  });

  it('repair NUL and lone surrogates in JSON values and keys, and nothing else', () => {
    const json = JSON.stringify({ label: 'ab\u0000c', ['k\u0000']: ['\ud800', 'x\udc00y', '😀'], n: 1.5, ok: true, none: null });
    expect(JSON.parse(pgJsonText(json))).toEqual({ label: 'ab\uFFFDc', ['k\uFFFD']: ['\uFFFD', 'x\uFFFDy', '😀'], n: 1.5, ok: true, none: null });
  });

  it('return JSON without such escapes unchanged, also text that only looks like one', () => {
    const safe = JSON.stringify({ a: 'x', b: [1, 2], c: '😀', d: 'a backslash and u0000: \\u0000' });
    expect(pgJsonText(safe)).toBe(safe);
  });
});
