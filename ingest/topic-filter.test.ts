import { describe, expect, it } from 'vitest';
import { compileTopicFilter } from './topic-filter.js';

// Cases from MQTT 3.1.1 §4.7.1 (topic wildcards) and §4.7.2 ($-topics).
describe('compileTopicFilter: MQTT 3.1.1 cases', () => {
  it.each([
    ['application/+/device/+/event/up', 'application/1/device/0102030405060708/event/up', true],
    ['application/+/device/+/event/up', 'application/1/device/0102030405060708/event/status', false],
    ['application/+/device/+/event/up', 'application/1/device/x/event/up/extra', false],
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/+', 'sport', false],
    ['#', '$SYS/broker/uptime', false],
    ['$share/g/eu868/gateway/+/event/up', 'eu868/gateway/0016c001f153a14c/event/up', true],
    ['sport/+/player1', 'sport//player1', true],
    ['sport/+', 'sport/', true],
    ['sport', 'sport/', false],
    ['sport/', 'sport', false],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['#', 'sport', true],
    ['sport/tennis', 'sport/tennisx', false],
    ['sport/tennisx', 'sport/tennis', false],
  ])('%s against %s is %s', (filter, topic, expected) => {
    expect(compileTopicFilter(filter)(topic)).toBe(expected);
  });
});

/** Matching by splitting both into levels, as the MQTT spec describes it. */
function byLevels(filter: string, topic: string): boolean {
  const fl = (filter.startsWith('$share/') ? filter.split('/').slice(2) : filter.split('/'));
  const tl = topic.split('/');
  if (topic.startsWith('$') && (fl[0] === '+' || fl[0] === '#')) return false;
  for (let i = 0; i < fl.length; i++) {
    if (fl[i] === '#') return true;
    if (i >= tl.length) return false;
    if (fl[i] !== '+' && fl[i] !== tl[i]) return false;
  }
  return fl.length === tl.length;
}

describe('compileTopicFilter', () => {
  it('agrees with level-by-level matching on every pair of short filters and topics', () => {
    // All strings of up to four characters over a small alphabet with separators and wildcards.
    const strings = (alphabet: string[], length: number): string[] => (length === 0 ? [''] : strings(alphabet, length - 1).flatMap((s) => alphabet.map((c) => s + c)));
    const topics = [0, 1, 2, 3, 4].flatMap((n) => strings(['a', 'b', '/', '$'], n));
    const filters = [0, 1, 2, 3, 4].flatMap((n) => strings(['a', '/', '+', '#'], n));
    let checked = 0;
    for (const filter of filters) {
      const matches = compileTopicFilter(filter);
      for (const topic of topics) {
        expect(matches(topic), `${filter} against ${topic}`).toBe(byLevels(filter, topic));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100_000);
  });
});
