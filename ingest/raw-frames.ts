/**
 * The raw-frame path between the concentrator source and the batch writer.
 *
 * Design note. Copies of one frame from several concentrators are gathered into groups
 * by frame-collector.ts; a late copy reaches this resolver only once its group's uplink
 * is committed, and is merged into it by the uplink id remembered here.
 *
 * At batch time the groups are resolved in arrival order: one query fetches the ABP
 * devices of all DevAddrs in the batch, keys are opened with the key vault, and each
 * group runs through the frame processor (MIC → 32-bit counter → decrypt). Accepted
 * counters move the in-memory candidate forward, so two frames of one device in one
 * batch are checked against each other; the database then claims each frame identity
 * and advances the stored counter in the same transaction as the uplink, so a restart
 * cannot reopen the replay window and two workers cannot both accept one frame.
 *
 * Join-requests gather in a window of their own (LORAWAN_JOIN_DEDUP_WINDOW_MS, shorter:
 * the device listens five seconds later and only the best concentrator matters) and are
 * resolved by join-resolver.ts; after an accepted uplink, data-downlinks.ts plans what to
 * answer (ACK, MAC answers, the device's queued downlink).
 */
import type pg from 'pg';
import type { LorawanConfig } from '../lorawan-config.js';
import {
  selectAbpCandidates, type CounterRow, type DeviceAckRow, type FrameIdRow, type JoinRow, type PlannedDownlink, type ReceptionMergeRow, type SessionPromotionRow,
} from '../storage/index.js';
import {
  KeyVaultError,
  createKeyVault,
  isDevStatusAns,
  keyAad,
  parsePhyPayload,
  processFrameGroup,
  type AbpDeviceCandidate,
} from './lorawan/index.js';
import { FifoMap } from './fifo-map.js';
import { OpenedKeys } from './opened-keys.js';
import { AdrTracker } from './lorawan/adr.js';
import { isJoinRequest } from './lorawan/join-request.js';
import { planDataDownlinks, type AcceptedUplink } from './data-downlinks.js';
import type { GatewayRoutes } from './gateway-routes.js';
import type { RawFrameItem } from './frame-collector.js';
import { JoinResolver } from './join-resolver.js';
import { outgoingOf } from './outgoing-downlinks.js';
import type { DeviceHealth } from './sources/types.js';
import type { Uplink } from './types.js';

export { RawFrameCollector, type RawFrameCollectorOptions, type RawFrameItem } from './frame-collector.js';

/** What one batch's raw frames add to the write. */
export interface ResolvedFrames {
  uplinks: Uplink[];
  frameIds: FrameIdRow[];
  counters: CounterRow[];
  merges: ReceptionMergeRow[];
  health: DeviceHealth[];
  /** Per input item: null when it became an uplink or a merge, else why it was rejected. */
  rejections: Map<RawFrameItem, { reason: string; detail: string; devEui: string | null }>;
  /** Accepted joins, their pending sessions sealed. */
  joins: JoinRow[];
  /** Uplinks that proved a pending session. */
  promotions: (SessionPromotionRow & { uplinkId: string })[];
  /** Join-accepts and data downlinks (their messages in `outgoingOf`). */
  downlinks: PlannedDownlink[];
  /** Uplinks that settle confirmed downlinks. */
  deviceAcks: (DeviceAckRow & { uplinkId: string })[];
  /** Items that were copies of something already handled (a join another worker answered): acknowledged, nothing stored. */
  duplicates: Set<RawFrameItem>;
}

/** What the resolver needs to answer devices; without it frames are only received. */
export interface NetworkServerOptions {
  lorawan: Readonly<LorawanConfig>;
  gateways: GatewayRoutes;
}

const REMEMBERED_UPLINKS = 100_000;
/** Opened session keys kept (two per device in use). */
const SESSION_KEYS = 50_000;
/** Opened AppKeys kept: those of the devices joining now (see opened-keys.ts). */
const JOINING_APP_KEYS = 4_096;

/** Resolves groups into uplinks with the database's ABP devices; keeps frame → uplink ids for late copies. */
export class RawFrameResolver {
  /** Frame → uplink id of the newest REMEMBERED_UPLINKS frames, for late copies. */
  private readonly uplinkIdByFrame = new FifoMap<string, string>();
  private readonly sessionKeys: OpenedKeys;

  private readonly joins: JoinResolver | null;
  private readonly adr = new AdrTracker();

  constructor(private readonly pool: pg.Pool, masterKey: Buffer, private readonly network: NetworkServerOptions | null = null) {
    const vault = createKeyVault(masterKey);
    this.sessionKeys = new OpenedKeys((sealed, aad) => vault.openKey(sealed, aad), SESSION_KEYS);
    const appKeys = new OpenedKeys((sealed, aad) => vault.openKey(sealed, aad), JOINING_APP_KEYS);
    this.joins = network ? new JoinResolver(pool, vault, network.lorawan, network.gateways, (sealed, aad) => appKeys.get(sealed, aad)) : null;
  }

  /** The resolution of the batch before, which the next one waits for (see resolve). */
  private previous: Promise<unknown> = Promise.resolve();

  /**
   * Resolves one batch's frames, after the batches before it have been resolved.
   *
   * Two batches are in the database at once, and each reads the devices' counters when it
   * is resolved. Had the later one read first, written and committed its frames (a device's
   * FCnt 3) before the earlier one read (its FCnt 0, waiting for a connection of a pool under
   * load), the earlier frames would meet a counter past them and be rejected as replays:
   * seen in `bench frames` on a loaded machine, 5 to 21 of 200 uplinks lost that way. Resolved
   * in batch order, a batch reads the counters before any later batch can commit; writing
   * still overlaps, and the stored counter only moves forward (update-device-progress.ts).
   */
  resolve(items: RawFrameItem[]): Promise<ResolvedFrames> {
    const resolved = this.previous.then(() => this.resolveInOrder(items));
    this.previous = resolved.catch(() => undefined);
    return resolved;
  }

  private async resolveInOrder(items: RawFrameItem[]): Promise<ResolvedFrames> {
    const out: ResolvedFrames = { uplinks: [], frameIds: [], counters: [], merges: [], health: [], rejections: new Map(), joins: [], promotions: [], downlinks: [], deviceAcks: [], duplicates: new Set() };
    const devAddrOf = new Map<RawFrameItem, string>();
    const joinItems: Extract<RawFrameItem, { kind: 'frame_group' }>[] = [];
    for (const item of items) {
      if (item.kind !== 'frame_group') continue;
      if (isJoinRequest(item.group.phyPayload)) {
        joinItems.push(item);
        continue;
      }
      const parsed = parsePhyPayload(item.group.phyPayload);
      if (parsed.ok) devAddrOf.set(item, parsed.frame.devAddr);
    }
    await this.resolveJoins(joinItems, out);
    const candidates = await this.candidates([...new Set(devAddrOf.values())]);
    const accepted: AcceptedUplink[] = [];
    const counters = new Map<string, CounterRow>();
    const devices = { lookupByDevAddr: async (devAddr: string) => candidates.get(devAddr) ?? [] };
    for (const item of items) {
      if (item.kind === 'late_reception') {
        // A late copy of a join-request: the join was answered (or refused) from its group.
        if (isJoinRequest(item.late.phyPayload)) {
          out.duplicates.add(item);
          continue;
        }
        const uplinkId = this.uplinkIdByFrame.get(item.late.key);
        if (!uplinkId) {
          out.rejections.set(item, { reason: 'late_copy_unmatched', detail: `late copy from ${item.late.reception.gatewayId} of a frame that did not become an uplink`, devEui: null });
          continue;
        }
        const r = item.late.reception;
        out.merges.push({ uplinkId, receptions: [{ gatewayId: r.gatewayId, rssiDbm: r.rssiDbm, snrDb: r.snrDb, receivedAt: r.receivedAt, best: false }] });
        continue;
      }
      if (!devAddrOf.has(item) && isJoinRequest(item.group.phyPayload)) continue;
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
      if (outcome.session.pending) {
        // The first uplink of a joined session: it becomes the device's session, its counter starts here.
        out.promotions.push({ devEui: outcome.devEui, pendingNwkSKeySealed: outcome.session.sealedNwkSKey ?? '', uplinkId: uplink.id });
        counters.set(outcome.devEui, { devEui: outcome.devEui, fCnt: outcome.fCnt32, reset: true });
        this.forgetOldSession(candidates, outcome.devEui, outcome.session);
        this.adr.forget(outcome.devEui);
      } else if (!previous || reset || outcome.fCnt32 > previous.fCnt) {
        counters.set(outcome.devEui, { devEui: outcome.devEui, fCnt: outcome.fCnt32, reset: reset || (previous?.reset ?? false) });
      }
      // The next frame of this device in the same batch is checked against this counter.
      for (const c of candidates.get(devAddrOf.get(item) ?? '') ?? []) {
        if (c.devEui === outcome.devEui && c.pending === outcome.session.pending) c.lastFCnt = outcome.fCnt32;
      }
      accepted.push({ item, outcome, uplink });
      this.remember(item.group.key, uplink.id);
      for (const command of outcome.macCommands) {
        if (isDevStatusAns(command)) {
          out.health.push({ devEui: outcome.devEui, time: uplink.receivedAt, batteryLevelPercent: command.batteryLevelPercent, externalPower: command.externalPower, marginDb: command.marginDb });
        }
      }
    }
    out.counters.push(...counters.values());
    if (this.network) planDataDownlinks(accepted, out, { adr: this.adr, ...this.network });
    return out;
  }

  private async resolveJoins(items: Extract<RawFrameItem, { kind: 'frame_group' }>[], out: ResolvedFrames): Promise<void> {
    if (items.length === 0) return;
    if (!this.joins) {
      for (const item of items) out.rejections.set(item, { reason: 'join_request_unsupported', detail: 'this ingest answers no join-requests (no LoRaWAN network settings)', devEui: null });
      return;
    }
    const resolved = await this.joins.resolve(items);
    for (const [item, rejection] of resolved.rejections) out.rejections.set(item, rejection);
    for (const item of resolved.duplicates) out.duplicates.add(item);
    out.joins.push(...resolved.joins);
    for (const d of resolved.downlinks) {
      d.message.windowClosedAt = d.item.closedAt ?? null;
      outgoingOf.set(d.planned, d.message);
      out.downlinks.push(d.planned);
    }
  }

  /** After a promotion, the old session of that device takes no more frames in this batch. */
  private forgetOldSession(candidates: Map<string, AbpDeviceCandidate[]>, devEui: string, kept: AbpDeviceCandidate): void {
    for (const [devAddr, list] of candidates) {
      const rest = list.filter((c) => c.devEui !== devEui || c === kept);
      if (rest.length !== list.length) candidates.set(devAddr, rest);
    }
  }

  private remember(frameKey: string, uplinkId: string): void {
    if (this.uplinkIdByFrame.size >= REMEMBERED_UPLINKS) this.uplinkIdByFrame.shift();
    this.uplinkIdByFrame.set(frameKey, uplinkId);
  }

  private async candidates(devAddrs: string[]): Promise<Map<string, AbpDeviceCandidate[]>> {
    const interval = this.network && this.network.lorawan.devStatusIntervalS > 0 ? this.network.lorawan.devStatusIntervalS : null;
    const rows = await selectAbpCandidates(this.pool, devAddrs, interval);
    const byAddr = new Map<string, AbpDeviceCandidate[]>();
    for (const row of rows) {
      if (!row.nwkSKey || !row.appSKey) continue;
      // A session whose sealed keys do not open (another MASTER_KEY) is no candidate: its
      // frames end as mic_mismatch or unknown_devaddr instead of failing the whole batch.
      const keys = this.openSession(row.devEui, row.nwkSKey, row.appSKey);
      if (!keys) continue;
      const candidate: AbpDeviceCandidate = {
        devEui: row.devEui,
        devAddr: row.devAddr,
        nwkSKey: keys.nwkSKey,
        appSKey: keys.appSKey,
        lastFCnt: row.fCntUp,
        allowCounterReset: row.allowCounterReset,
        pending: row.pending,
        sealedNwkSKey: row.pending ? row.nwkSKey : undefined,
        fCntDown: row.fCntDown,
        openDownlinks: row.openDownlinks,
        devStatusDue: row.devStatusDue,
        queued: row.queueId === null ? null : { id: Number(row.queueId), fPort: row.queueFPort ?? 0, payload: row.queuePayload ?? Buffer.alloc(0), confirmed: row.queueConfirmed ?? false },
      };
      const list = byAddr.get(row.devAddr);
      if (list) list.push(candidate);
      else byAddr.set(row.devAddr, [candidate]);
    }
    return byAddr;
  }

  private openSession(devEui: string, nwkSKey: string, appSKey: string): { nwkSKey: Buffer; appSKey: Buffer } | null {
    try {
      return { nwkSKey: this.sessionKeys.get(nwkSKey, keyAad(devEui, 'nwkSKey')), appSKey: this.sessionKeys.get(appSKey, keyAad(devEui, 'appSKey')) };
    } catch (error) {
      if (error instanceof KeyVaultError) return null;
      throw error;
    }
  }

}
