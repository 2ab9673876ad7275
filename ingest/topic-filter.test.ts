import { describe, expect, it } from 'vitest';
import { topicMatches } from './topic-filter.js';

// Cases from MQTT 3.1.1 §4.7.1 (topic wildcards) and §4.7.2 ($-topics).
describe('topicMatches', () => {
  it.each([
    ['application/+/device/+/event/up', 'application/1/device/0102030405060708/event/up', true],
    ['application/+/device/+/event/up', 'application/1/device/0102030405060708/event/status', false],
    ['application/+/device/+/event/up', 'application/1/device/x/event/up/extra', false],
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/+', 'sport', false],
    ['#', '$SYS/broker/uptime', false],
    ['$share/g/eu868/gateway/+/event/up', 'eu868/gateway/0016c001f153a14c/event/up', true],
  ])('%s against %s is %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});
