import { makeReading } from './catalog.js';
import type { DecodeResult, Reading } from './types.js';

/**
 * Runs a reference-format reader and turns its flat `{metricId: value}` result into
 * Readings (keys are catalog ids by design). A malformed payload becomes an error, not a throw.
 */
export function readingsFrom(read: () => Record<string, number | null>, recvTime: Date): DecodeResult {
  let values: Record<string, number | null>;
  try {
    values = read();
  } catch (error) {
    return { readings: [], decoded: {}, warnings: [], errors: [(error as Error).message] };
  }
  const readings: Reading[] = [];
  for (const [metric, value] of Object.entries(values)) {
    if (value === null) continue;
    const reading = makeReading(metric, value, recvTime);
    if (reading) readings.push(reading);
  }
  return { readings, decoded: values, warnings: [], errors: [] };
}
