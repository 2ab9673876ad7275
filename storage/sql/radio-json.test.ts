import { describe, expect, it } from 'vitest';
import type { RadioMeta } from '../../ingest/types.js';
import { radioJson } from './radio-json.js';

describe('radioJson', () => {
  it('writes what JSON.stringify writes, for random radio metadata', () => {
    let x = 12345;
    const next = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const maybe = <T>(v: T): T | null => (next() < 0.2 ? null : v);
    for (let n = 0; n < 500; n++) {
      const radio: RadioMeta = {
        frequencyHz: maybe(Math.round(450e6 + next() * 420e6)),
        spreadingFactor: maybe(7 + Math.floor(next() * 6)),
        bandwidthHz: maybe(next() < 0.5 ? 125_000 : NaN),
        dataRate: maybe(next() < 0.5 ? 'SF7BW125' : 'DR"5\\'),
        band: maybe(next() < 0.5 ? 'EU868' : '450MHz\u2028'),
        receptions: Array.from({ length: Math.floor(next() * 4) }, (_, i) => ({
          gatewayId: `0016c001ff10a23${i}`,
          rssiDbm: maybe(-Math.round(next() * 130)),
          snrDb: maybe(next() < 0.1 ? Infinity : Math.round(next() * 300 - 200) / 10),
          receivedAt: maybe(next() < 0.1 ? new Date(NaN) : new Date(1_700_000_000_000 + Math.floor(next() * 1e10))),
          best: i === 0,
        })),
      };
      expect(radioJson(radio)).toBe(JSON.stringify(radio));
    }
  });
});
