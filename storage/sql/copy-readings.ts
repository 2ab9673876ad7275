import type pg from 'pg';
import type { ReadingRow } from '../rows.js';
import { copyNullable, copyText, copyUnlessStored } from './copy-in.js';

const ROWS_PER_CHUNK = 2_000;

/**
 * Streams readings with COPY (on the readings table here: 142,000 rows/s against 112,000
 * for unnest + ON CONFLICT, one connection). Null when a reading's key is already stored
 * (a reading with the same device, metric, channel and time from another uplink): then
 * nothing was written and the caller inserts the rows with insertReadings.
 * Must run inside a transaction.
 */
export async function copyReadings(db: pg.ClientBase, rows: ReadingRow[]): Promise<number | null> {
  if (rows.length === 0) return 0;
  const copied = await copyUnlessStored(db, 'copy_readings', 'copy readings (time, dev_eui, metric, channel, value, quality, asset_id, uplink_id) from stdin', readingLines(rows));
  return copied ? rows.length : null;
}

/**
 * The readings of one uplink come one after another and share its time, device, asset and
 * identity (often the same Date and string objects): each is formatted once per run of
 * equal values, not once per reading.
 */
function* readingLines(rows: ReadingRow[]): Generator<string> {
  let chunk = '';
  let time: Date | null = null;
  let timeText = '';
  let prefix: string | null = null;
  let device = '';
  let suffix: string | null = null;
  let asset: string | null = null;
  let uplink: string | null = null;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (r.time !== time && r.time.getTime() !== time?.getTime()) prefix = null;
    if (prefix === null || r.devEui !== device) {
      time = r.time;
      timeText = r.time.toISOString();
      device = r.devEui;
      prefix = `${timeText}\t${copyText(device)}\t`;
    }
    if (suffix === null || r.assetId !== asset || r.uplinkId !== uplink) {
      asset = r.assetId;
      uplink = r.uplinkId;
      suffix = `\t${copyNullable(asset)}\t${copyNullable(uplink)}\n`;
    }
    chunk += `${prefix}${copyText(r.metric)}\t${copyText(r.channel)}\t${r.value}\t${copyText(r.quality)}${suffix}`;
    if ((i + 1) % ROWS_PER_CHUNK === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
