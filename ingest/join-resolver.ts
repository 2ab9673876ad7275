/**
 * Join-requests of one batch: the devices behind them (one query), their AppKeys opened
 * from the vault, each request through the join processor, and what the batch stores:
 * the join (claimed once across workers), the pending session sealed, and the
 * join-accept to record and publish after commit.
 *
 * A copy of a request that another worker (or an earlier batch) already answered finds
 * its DevNonce stored with the same request MIC: it is counted as a duplicate, not dead-
 * lettered as a replay. The same bytes sent again much later (a replay) are rejected by
 * the DevNonce rule.
 */
import type pg from 'pg';
import { joinKey, selectOtaaDevices, type JoinRow, type OtaaDeviceRow, type PlannedDownlink } from '../storage/index.js';
import type { LorawanConfig } from '../lorawan-config.js';
import { DevAddrPool } from './lorawan/dev-addr-pool.js';
import { parseJoinRequest } from './lorawan/join-request.js';
import { KeyVaultError } from './lorawan/errors.js';
import { keyAad, type KeyVault } from './lorawan/key-vault.js';
import { MAC_VERSIONS, processJoinRequest, type MacVersion, type OtaaDeviceCandidate } from './lorawan/join-processor.js';
import type { FrameGroup } from './lorawan/types.js';
import type { OutgoingDownlink } from './outgoing-downlinks.js';
import type { GatewayRoutes } from './gateway-routes.js';

/** A copy of an answered request counts as a duplicate this long after the answer. */
const COPY_WINDOW_MS = 60_000;

export interface JoinItem {
  group: FrameGroup;
  band: string | null;
}

export interface ResolvedJoins<T extends JoinItem> {
  joins: JoinRow[];
  downlinks: { item: T; planned: PlannedDownlink; message: OutgoingDownlink }[];
  rejections: Map<T, { reason: string; detail: string; devEui: string | null }>;
  /** Copies of requests already answered (another worker, an earlier batch). */
  duplicates: Set<T>;
}

export class JoinResolver {
  private readonly devAddrs: DevAddrPool;

  constructor(
    private readonly pool: pg.Pool,
    private readonly vault: KeyVault,
    private readonly lorawan: Readonly<LorawanConfig>,
    private readonly gateways: GatewayRoutes,
    private readonly openKey: (sealed: string, aad: string) => Buffer,
  ) {
    this.devAddrs = new DevAddrPool(lorawan.devAddrRanges);
  }

  async resolve<T extends JoinItem>(items: T[]): Promise<ResolvedJoins<T>> {
    const out: ResolvedJoins<T> = { joins: [], downlinks: [], rejections: new Map(), duplicates: new Set() };
    if (items.length === 0) return out;
    const requests = items.flatMap((item) => {
      const parsed = parseJoinRequest(item.group.phyPayload);
      return parsed.ok ? [{ devEui: parsed.request.devEui, devNonce: parsed.request.devNonce }] : [];
    });
    // DevAddrs for this batch: two random candidates per join, those in use dropped, read with the devices.
    const candidates = [...new Set(Array.from({ length: 2 * items.length }, () => this.devAddrs.allocate()))];
    const { devices, devAddrsInUse: inUse } = await selectOtaaDevices(this.pool, requests, candidates);
    const rows = new Map(devices.map((r) => [joinKey(r), r]));
    const free = candidates.filter((a) => !inUse.has(a));
    const allocator = { allocate: (busy?: (a: string) => boolean) => free.pop() ?? this.devAddrs.allocate(busy) };
    const given = new Set<string>();
    const lastJoinNonce = new Map<string, number>();
    for (const item of items) {
      const parsed = parseJoinRequest(item.group.phyPayload);
      const row = parsed.ok ? rows.get(joinKey(parsed.request)) : undefined;
      if (parsed.ok && row?.usedMic === parsed.request.mic.toString('hex') && row.usedAt && Math.abs(item.group.firstSeenAt.getTime() - row.usedAt.getTime()) < COPY_WINDOW_MS) {
        out.duplicates.add(item);
        continue;
      }
      const candidate = row ? this.candidate(row, lastJoinNonce.get(row.devEui), (a) => inUse.has(a) || given.has(a)) : null;
      const outcome = processJoinRequest(item.group, candidate, { region: item.band ? (this.lorawan.regions[item.band] ?? null) : null, netId: this.lorawan.netId, devAddrs: allocator });
      if (outcome.kind === 'rejected') {
        out.rejections.set(item, { reason: outcome.reason, detail: outcome.detail, devEui: outcome.devEui });
        continue;
      }
      const route = this.gateways.get(outcome.windows.gatewayId);
      if (!route) {
        out.rejections.set(item, { reason: 'no_downlink_window', detail: `DevEUI ${outcome.devEui}: concentrator ${outcome.windows.gatewayId} has no known topic to answer on`, devEui: outcome.devEui });
        continue;
      }
      given.add(outcome.devAddr);
      // A second request of the same device in this batch gets the next JoinNonce.
      lastJoinNonce.set(outcome.devEui, outcome.joinNonce);
      const join: JoinRow = {
        devEui: outcome.devEui, devNonce: outcome.devNonce, joinNonce: outcome.joinNonce, requestMic: outcome.requestMic, devAddr: outcome.devAddr,
        receivedAt: item.group.firstSeenAt,
        nwkSKeySealed: this.vault.sealKey(outcome.keys.nwkSKey, keyAad(outcome.devEui, 'nwkSKey')),
        appSKeySealed: this.vault.sealKey(outcome.keys.appSKey, keyAad(outcome.devEui, 'appSKey')),
      };
      out.joins.push(join);
      out.downlinks.push({
        item,
        planned: {
          record: { devEui: outcome.devEui, kind: 'join_accept', gatewayId: outcome.windows.gatewayId, fCntDown: null, fPort: null, queueId: null, confirmed: false, ack: false, macCommands: [] },
          after: { joinKey: joinKey(join) },
          counter: null,
          devStatusReq: false,
        },
        message: {
          prefix: route.prefix,
          encoding: route.encoding,
          gatewayId: outcome.windows.gatewayId,
          context: outcome.windows.context,
          items: outcome.windows.items.map((tx) => ({ phyPayload: outcome.accept, tx })),
          firstSeenAt: item.group.firstSeenAt,
        },
      });
    }
    return out;
  }

  /** A key that does not open rejects that device's request (key_unreadable), not the batch. */
  private openOrNull(sealed: string, aad: string): Buffer | null {
    try {
      return this.openKey(sealed, aad);
    } catch (error) {
      if (error instanceof KeyVaultError) return null;
      throw error;
    }
  }

  private candidate(row: OtaaDeviceRow, batchJoinNonce: number | undefined, devAddrInUse: (a: string) => boolean): OtaaDeviceCandidate {
    return {
      devEui: row.devEui,
      joinEui: row.joinEui,
      appKey: row.appKey ? this.openOrNull(row.appKey, keyAad(row.devEui, 'appKey')) : Buffer.alloc(0),
      macVersion: (MAC_VERSIONS as readonly string[]).includes(row.macVersion) ? (row.macVersion as MacVersion) : '1.0.3',
      devNonceUsed: row.usedMic !== null,
      lastDevNonce: row.lastDevNonce,
      lastJoinNonce: Math.max(row.lastJoinNonce ?? -1, batchJoinNonce ?? -1) < 0 ? null : Math.max(row.lastJoinNonce ?? -1, batchJoinNonce ?? -1),
      devAddrInUse,
    };
  }
}
