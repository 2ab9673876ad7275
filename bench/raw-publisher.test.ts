import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { encodePublish } from './raw-publisher.js';

describe('encodePublish', () => {
  // mqtt-packet (the codec under mqtt.js and aedes) as the reference encoder for the
  // layouts of MQTT 3.1.1 §3.3 and MQTT 5.0 §3.3.
  for (const protocolVersion of [4, 5] as const) {
    it(`writes the same QoS 1 PUBLISH as mqtt-packet for MQTT ${protocolVersion === 4 ? '3.1.1' : '5'}, packet id included`, () => {
      for (const size of [0, 10, 127, 200, 20_000]) {
        const topic = 'application/städtisch/device/0004a30b001c0530/event/up';
        const payload = Buffer.alloc(size, 0x5a);
        const encoded = encodePublish(topic, payload, protocolVersion);
        encoded.bytes.writeUInt16BE(0xbeef, encoded.idOffset);
        const reference = mqttPacket.generate({ cmd: 'publish', qos: 1, dup: false, retain: false, topic, payload, messageId: 0xbeef, ...(protocolVersion === 5 ? { properties: {} } : {}) }, { protocolVersion });
        expect(encoded.bytes.equals(reference), `payload of ${size} bytes`).toBe(true);
      }
    });
  }
});
