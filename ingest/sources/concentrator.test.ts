import { describe, expect, it } from 'vitest';
import { concentratorSource } from './concentrator.js';

const source = concentratorSource({ prefix: 'eu868', band: 'EU868' });
const topic = (event: string): string => `eu868/gateway/0016c001f153a14c/event/${event}`;

// Event types: ChirpStack Gateway Bridge v4 and what ChirpStack reads of it (chirpstack/src/gateway/backend/mqtt.rs).
describe('concentrator source', () => {
  it('ignores the bridge events it has no use for', () => {
    for (const event of ['exec', 'raw', 'mesh', 'mesh-heartbeat']) expect(source.parse(topic(event), Buffer.from('{}')), event).toEqual({ kind: 'ignored' });
  });

  it('dead-letters an event type no bridge publishes', () => {
    expect(() => source.parse(topic('bogus'), Buffer.from('{}')))
      .toThrow(expect.objectContaining({ reason: 'unknown_event', message: 'event type "bogus" is no gateway bridge event' }));
  });
});
