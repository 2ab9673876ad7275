/**
 * The raw-frame path between the concentrator source and the batch writer.
 *
 * Design note. Copies of one frame from several concentrators are gathered by the
 * dedup window (ingest/lorawan/dedup-window.ts); the MQTT messages that carried them
 * wait with the group and are acknowledged together once the group's uplink is
 * committed. A copy arriving after its group was emitted becomes a `late` item whose
 * reception is merged into the stored uplink.
 *
 * At batch time the groups are resolved in arrival order: one query fetches the ABP
 * devices of all DevAddrs in the batch, keys are opened with the key vault, and each
 * group runs through the frame processor (MIC → 32-bit counter → decrypt). Accepted
 * counters move the in-memory candidate forward, so two frames of one device in one
 * batch are checked against each other; the database then claims each frame identity
 * and advances the stored counter in the same transaction as the uplink, so a restart
 * cannot reopen the replay window and two workers cannot both accept one frame.
 */
import type pg from 'pg';
import { selectAbpCandidates, type CounterRow, type FrameIdRow, type ReceptionMergeRow } from '../storage/index.js';
import {
  DedupWindow,
  createKeyVault,
  frameKey,
  isDevStatusAns,
  keyAad,
  parsePhyPayload,
  processFrameGroup,
  receptionOf,
  type AbpDeviceCandidate,
  type FrameGroup,
  type GatewayUplinkFrame,
  type KeyVault,
  type LateReception,
} from './lorawan/index.js';
import { FifoMap } from './fifo-map.js';
import type { InboundMessage } from './mqtt-consumer.js';
import type { DeviceHealth } from './sources/types.js';
import type { Uplink } from './types.js';

export type RawFrameItem =
  | { kind: 'frame_group'; group: FrameGroup; band: string | null; messages: InboundMessage[] }
  | { kind: 'late_reception'; late: LateReception; messages: InboundMessage[] };

export interface RawFrameCollectorOptions {
  windowMs: number;
  /** Receives each closed group or late copy, with the messages to acknowledge after commit. */
  emit(item: RawFrameItem): void;
  onError(error: unknown): void;
}

/** Gathers copies into groups and keeps each group's MQTT messages with it. */
export class RawFrameCollector {
  private readonly window: DedupWindow;
  private readonly pending = new Map<string, { messages: InboundMessage[]; band: string | null }>();

  constructor(private readonly options: RawFrameCollectorOptions) {
    this.window = new DedupWindow({
      windowMs: options.windowMs,
      onGroup: (group) => this.closeGroup(group),
      onLate: (late) => this.lateCopy(late),
      onError: (error) => options.onError(error),
    });
  }

  private lateMessage: InboundMessage | null = null;

  offer(message: InboundMessage, frame: GatewayUplinkFrame, band: string | null, arrivedAt: Date): void {
    const key = frameKey(frame.phyPayload);
    this.lateMessage = message;
    const outcome = this.window.offer(frame.phyPayload, receptionOf(frame, arrivedAt), key);
    this.lateMessage = null;
    if (outcome === 'late') return;
    const entry = this.pending.get(key);
    if (entry) entry.messages.push(message);
    else this.pending.set(key, { messages: [message], band });
  }

  /** Emits every open group now (shutdown). */
  flush(): void {
    this.window.flush();
  }

  private closeGroup(group: FrameGroup): void {
    const entry = this.pending.get(group.key);
    this.pending.delete(group.key);
    this.options.emit({ kind: 'frame_group', group, band: entry?.band ?? null, messages: entry?.messages ?? [] });
  }

  private lateCopy(late: LateReception): void {
    this.options.emit({ kind: 'late_reception', late, messages: this.lateMessage ? [this.lateMessage] : [] });
  }
}

/** What one batch's raw frames add to the write. */
export interface ResolvedFrames {
  uplinks: Uplink[];
  frameIds: FrameIdRow[];
  counters: CounterRow[];
  merges: ReceptionMergeRow[];
  health: DeviceHealth[];
  /** Per input item: null when it became an uplink or a merge, else why it was rejected. */
  rejections: Map<RawFrameItem, { reason: string; detail: string; devEui: string | null }>;
}

const REMEMBERED_UPLINKS = 100_000;

/** Resolves groups into uplinks with the database's ABP devices; keeps frame → uplink ids for late copies. */
export class RawFrameResolver {
  private readonly vault: KeyVault;
  /** Frame → uplink id of the newest REMEMBERED_UPLINKS frames, for late copies. */
  private readonly uplinkIdByFrame = new FifoMap<string, string>();
  private readonly keyCache = new Map<string, Buffer>();

  constructor(private readonly pool: pg.Pool, masterKey: Buffer) {
    this.vault = createKeyVault(masterKey);
  }

  async resolve(items: RawFrameItem[]): Promise<ResolvedFrames> {
    const out: ResolvedFrames = { uplinks: [], frameIds: [], counters: [], merges: [], health: [], rejections: new Map() };
    const devAddrOf = new Map<RawFrameItem, string>();
    for (const item of items) {
      if (item.kind !== 'frame_group') continue;
      const parsed = parsePhyPayload(item.group.phyPayload);
      if (parsed.ok) devAddrOf.set(item, parsed.frame.devAddr);
    }
    const candidates = await this.candidates([...new Set(devAddrOf.values())]);
    const counters = new Map<string, CounterRow>();
    const devices = { lookupByDevAddr: async (devAddr: string) => candidates.get(devAddr) ?? [] };
    for (const item of items) {
      if (item.kind === 'late_reception') {
        const uplinkId = this.uplinkIdByFrame.get(item.late.key);
        if (!uplinkId) {
          out.rejections.set(item, { reason: 'late_copy_unmatched', detail: `late copy from ${item.late.reception.gatewayId} of a frame that did not become an uplink`, devEui: null });
          continue;
        }
        const r = item.late.reception;
        out.merges.push({ uplinkId, receptions: [{ gatewayId: r.gatewayId, rssiDbm: r.rssiDbm, snrDb: r.snrDb, receivedAt: r.receivedAt, best: false }] });
        continue;
      }
      const outcome = await processFrameGroup(item.group, { devices, band: item.band });
      if (outcome.kind === 'rejected') {
        out.rejections.set(item, { reason: outcome.reason, detail: outcome.detail, devEui: outcome.devEui });
        continue;
      }
      // Identity devEui:fCnt32:mic (frame-processor): a new frame after an allowed counter reset does not collide with an old one.
      const uplink: Uplink = outcome.uplink;
      out.uplinks.push(uplink);
      out.frameIds.push({ id: uplink.id, devEui: uplink.devEui, receivedAt: uplink.receivedAt });
      const previous = counters.get(outcome.devEui);
      const reset = outcome.counter === 'reset-accepted';
      if (!previous || reset || outcome.fCnt32 > previous.fCnt) counters.set(outcome.devEui, { devEui: outcome.devEui, fCnt: outcome.fCnt32, reset: reset || (previous?.reset ?? false) });
      // The next frame of this device in the same batch is checked against this counter.
      for (const c of candidates.get(devAddrOf.get(item) ?? '') ?? []) {
        if (c.devEui === outcome.devEui) c.lastFCnt = outcome.fCnt32;
      }
      this.remember(item.group.key, uplink.id);
      for (const command of outcome.macCommands) {
        if (isDevStatusAns(command)) {
          out.health.push({ devEui: outcome.devEui, time: uplink.receivedAt, batteryLevelPercent: command.batteryLevelPercent, externalPower: command.externalPower, marginDb: command.marginDb });
        }
      }
    }
    out.counters.push(...counters.values());
    return out;
  }

  private remember(frameKey: string, uplinkId: string): void {
    if (this.uplinkIdByFrame.size >= REMEMBERED_UPLINKS) this.uplinkIdByFrame.shift();
    this.uplinkIdByFrame.set(frameKey, uplinkId);
  }

  private async candidates(devAddrs: string[]): Promise<Map<string, AbpDeviceCandidate[]>> {
    const rows = await selectAbpCandidates(this.pool, devAddrs);
    const byAddr = new Map<string, AbpDeviceCandidate[]>();
    for (const row of rows) {
      if (!row.nwkSKey || !row.appSKey) continue;
      const candidate: AbpDeviceCandidate = {
        devEui: row.devEui,
        devAddr: row.devAddr,
        nwkSKey: this.open(row.nwkSKey, keyAad(row.devEui, 'nwkSKey')),
        appSKey: this.open(row.appSKey, keyAad(row.devEui, 'appSKey')),
        lastFCnt: row.fCntUp,
        allowCounterReset: row.allowCounterReset,
      };
      const list = byAddr.get(row.devAddr);
      if (list) list.push(candidate);
      else byAddr.set(row.devAddr, [candidate]);
    }
    return byAddr;
  }

  /** Opened keys are cached by their sealed form: a changed key is a different sealed string. */
  private open(sealed: string, aad: string): Buffer {
    const cacheKey = `${aad}\u0000${sealed}`;
    let key = this.keyCache.get(cacheKey);
    if (!key) {
      key = this.vault.openKey(sealed, aad);
      if (this.keyCache.size > 50_000) this.keyCache.clear();
      this.keyCache.set(cacheKey, key);
    }
    return key;
  }
}
