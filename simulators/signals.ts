/**
 * Realistic-looking city signals as functions of local time. Shapes, not data:
 * weekday rush hours at 07:30 and 17:00, weaker weekend traffic, particulate matter
 * following traffic plus night-time inversions, lamps on between dusk and dawn and
 * dimmed after midnight, water levels drifting slowly.
 */

/** Hours since local midnight (UTC+1, the cities' winter time) and whether it is a weekend. */
export function localClock(t: Date): { hour: number; weekend: boolean } {
  const local = new Date(t.getTime() + 3_600_000);
  const day = local.getUTCDay();
  return { hour: local.getUTCHours() + local.getUTCMinutes() / 60 + local.getUTCSeconds() / 3600, weekend: day === 0 || day === 6 };
}

function bump(hour: number, centre: number, width: number): number {
  const d = Math.min(Math.abs(hour - centre), 24 - Math.abs(hour - centre));
  return Math.exp(-(d * d) / (2 * width * width));
}

/** Relative traffic intensity, 0..1. */
export function trafficIntensity(t: Date): number {
  const { hour, weekend } = localClock(t);
  if (weekend) return 0.08 + 0.5 * bump(hour, 14, 3.5);
  return 0.05 + 0.95 * bump(hour, 7.5, 1.2) + 0.85 * bump(hour, 17, 1.6) + 0.45 * bump(hour, 12.5, 2.5);
}

/** Probability that a parking bay is occupied. */
export function parkingOccupancy(t: Date): number {
  const { hour, weekend } = localClock(t);
  const base = weekend ? 0.35 + 0.45 * bump(hour, 15, 3) : 0.3 + 0.6 * bump(hour, 11, 3.5);
  return Math.min(0.97, base);
}

/** Night-time inversion strength 0..1: pollutants pile up between 22:00 and 06:00. */
export function inversion(t: Date): number {
  const { hour } = localClock(t);
  return bump(hour, 3, 3);
}

/** Lamp state: on from dusk (16:45) to dawn (07:45), dimmed to 40 % from 00:30 to 05:00. */
export function lampState(t: Date): { on: boolean; dimPercent: number } {
  const { hour } = localClock(t);
  const on = hour >= 16.75 || hour < 7.75;
  if (!on) return { on: false, dimPercent: 0 };
  return { on: true, dimPercent: hour >= 0.5 && hour < 5 ? 40 : 100 };
}
