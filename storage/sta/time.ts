/** Instants as epoch microseconds (PostgreSQL's resolution) and their ISO 8601 text. */

/** ISO 8601 in UTC; milliseconds as Date writes them, microseconds only where there are any. */
export function microsToIso(micros: bigint): string {
  const ms = micros / 1000n;
  const rest = micros % 1000n;
  const adjust = rest < 0n ? 1n : 0n;
  const base = new Date(Number(ms - adjust)).toISOString();
  if (rest === 0n) return base;
  const frac = ((rest + 1000n) % 1000n).toString().padStart(3, '0');
  return `${base.slice(0, -1)}${frac}Z`;
}

/** Epoch microseconds of a PostgreSQL timestamptz text as node-pg leaves it, or of a Date. */
export function microsOf(value: Date): bigint {
  return BigInt(value.getTime()) * 1000n;
}
