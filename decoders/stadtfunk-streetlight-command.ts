/**
 * stadtfunk reference format: streetlight controller command (downlink, FPort 12), 3 bytes.
 *
 * | byte | type | field                 | unit, scale |
 * |------|------|-----------------------|-------------|
 * | 0    | u8   | command = 1 (set)     |             |
 * | 1    | u8   | flags: bit 0 lamp on  |             |
 * | 2    | u8   | dim_level             | 1 %, 0–100  |
 *
 * The controller applies it at once and reports the new state in its next uplink
 * (stadtfunk-streetlight.ts: flags and dim_level at bytes 1 and 2).
 */
export const STREETLIGHT_FPORT = 12;

export interface StreetlightCommand {
  lamp_on: boolean;
  /** 0–100 %. */
  dim_level: number;
}

/** The command as an object from the API: lamp_on (boolean) and dim_level (0–100). */
export function encodeStreetlightCommand(object: Record<string, unknown>): { bytes: Buffer; fPort: number } | { errors: string[] } {
  const on = object.lamp_on;
  const dim = object.dim_level ?? (on === false ? 0 : 100);
  const errors: string[] = [];
  if (typeof on !== 'boolean') errors.push('lamp_on must be true or false');
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 0 || dim > 100) errors.push('dim_level must be a whole number 0–100');
  const unknown = Object.keys(object).filter((k) => k !== 'lamp_on' && k !== 'dim_level');
  if (unknown.length > 0) errors.push(`unknown field ${unknown.join(', ')} (a streetlight takes lamp_on and dim_level)`);
  if (errors.length > 0) return { errors };
  return { bytes: Buffer.from([1, on ? 1 : 0, dim as number]), fPort: STREETLIGHT_FPORT };
}

/** The controller's reading of a command (simulators); null when it is not one. */
export function decodeStreetlightCommand(bytes: Uint8Array): StreetlightCommand | null {
  if (bytes.length !== 3 || bytes[0] !== 1 || bytes[2]! > 100) return null;
  return { lamp_on: (bytes[1]! & 1) === 1, dim_level: bytes[2]! };
}
