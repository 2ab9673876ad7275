/**
 * The state of a parking bay, the one rule behind every answer that shows or counts bays:
 * the live view of each bay (api/live.ts), zone totals (/api/v1/live/zones,
 * /api/v1/open/parking/zones), DATEX II zone sites and the SensorThings zone samples.
 *
 * A bay in service (kind parking_bay, not decommissioned) is `occupied` when the newest
 * `occupied` reading of any of its devices is OCCUPIED_FROM or more, `free` when it is
 * less, and `unknown` when that reading is older than the stale limit, or there is none
 * (a sensor reporting a fault sends none: unknown is not free). Only the `occupied`
 * reading's own time counts: a fresh battery reading does not vouch for an old occupancy.
 */

/** An `occupied` value from this up is an occupied bay (the sensors send 0 and 1). */
export const OCCUPIED_FROM = 0.5;

export type BayState = 'occupied' | 'free' | 'unknown';

/** The rule in TypeScript: `value` and `time` of the bay's newest `occupied` reading (undefined/null: none). */
export function bayState(value: number | undefined, time: Date | null, staleAfterMs: number, now = Date.now()): BayState {
  if (value === undefined || time === null || now - time.getTime() > staleAfterMs) return 'unknown';
  return value >= OCCUPIED_FROM ? 'occupied' : value < OCCUPIED_FROM ? 'free' : 'unknown';
}

/**
 * The rule in SQL: one row per bay in service, with the asset columns `columns` (of
 * `assets a`, e.g. 'a.zone, a.latitude'), `time` of its newest `occupied` reading
 * (null: none) and `state` (BayState) at `at`, a timestamptz expression, with a stale
 * limit of `staleAfterS` seconds (an SQL expression). Only bays with a zone.
 *
 * `zone` (an SQL expression; omit for all zones) limits the rows to one zone's bays,
 * each probing its newest reading in latest_state_asset. For all zones the newest
 * readings of all bays are found in one pass over latest_state instead: on the bench
 * city's 10,000 bays 20-40 ms where a probe per bay took 150-230 ms.
 */
export function baysInService(q: { columns: string; at: string; staleAfterS: string; zone?: string }): string {
  const value = `(s.metrics -> 'occupied' ->> 1)::float8`;
  const time = `to_timestamp((s.metrics -> 'occupied' ->> 0)::float8 / 1000)`;
  const newest = `(s.metrics -> 'occupied' ->> 0)::bigint desc`;
  const reading = q.zone === undefined
    ? `left join (
         select distinct on (s.asset_id) s.asset_id, ${value} as value, ${time} as time
         from latest_state s where s.asset_id is not null and s.metrics ? 'occupied'
         order by s.asset_id, ${newest}) l on l.asset_id = a.id`
    : `left join lateral (
         select ${value} as value, ${time} as time
         from latest_state s where s.asset_id = a.id and s.metrics ? 'occupied'
         order by ${newest} limit 1) l on true`;
  const fresh = `l.time >= ${q.at} - make_interval(secs => ${q.staleAfterS})`;
  return `select ${q.columns}, l.time,
            case when ${fresh} and l.value >= ${OCCUPIED_FROM} then 'occupied'
                 when ${fresh} and l.value < ${OCCUPIED_FROM} then 'free'
                 else 'unknown' end as state
          from assets a ${reading}
          where a.kind = 'parking_bay' and a.decommissioned_at is null and a.zone is not null
            ${q.zone === undefined ? '' : `and a.zone = ${q.zone}`}`;
}

/** SQL select list over rows of baysInService aliased `b`: bays, occupied, free, unknown (int). */
export const BAY_COUNTS = `count(*)::int as bays,
  (count(*) filter (where b.state = 'occupied'))::int as occupied,
  (count(*) filter (where b.state = 'free'))::int as free,
  (count(*) filter (where b.state = 'unknown'))::int as unknown`;
