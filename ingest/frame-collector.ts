/**
 * Gathers concentrators' copies of a frame into groups for the batch writer (the first
 * half of the raw-frame path; raw-frames.ts resolves the groups).
 *
 * Design note. Copies are gathered by the dedup window (ingest/lorawan/dedup-window.ts);
 * the MQTT messages that carried them wait with the group and are acknowledged together
 * once the group's uplink is committed. A copy arriving after its group was emitted
 * depends on where the group is: while it still waits for a batch to be written, the copy
 * joins it (its message acked with the group's); while that batch is being written, the
 * copy is held, its message unacknowledged, and emitted once the batch committed; after
 * that it becomes a `late` item whose reception is merged into the stored uplink. So a
 * late copy never looks for an uplink that is not committed yet. Copies that add nothing
 * (a gateway the group already has, a full group) are counted in
 * stadtfunk_ingest_dropped_total.
 */
import {
  DedupWindow,
  bestReceptionIndex,
  frameKey,
  receptionOf,
  type FrameGroup,
  type GatewayUplinkFrame,
  type LateReception,
} from './lorawan/index.js';
import { isJoinRequest } from './lorawan/join-request.js';
import type { BridgeEncoding } from './lorawan/gateway-downlink.js';
import type { GatewayRoutes } from './gateway-routes.js';
import * as metrics from './metrics.js';
import type { InboundMessage } from './mqtt-consumer.js';

export type RawFrameItem =
  | {
      kind: 'frame_group';
      group: FrameGroup;
      band: string | null;
      messages: InboundMessage[];
      /** A join-request (MType 000): the join resolver takes it. */
      join?: boolean;
      /** performance.now() when the dedup window closed (downlink latency is measured from here). */
      closedAt?: number;
    }
  | { kind: 'late_reception'; late: LateReception; messages: InboundMessage[] };

type FrameGroupItem = Extract<RawFrameItem, { kind: 'frame_group' }>;

/** A group emitted and not yet committed: late copies of its frame join it or wait for it. */
interface UnsettledGroup {
  item: FrameGroupItem;
  /** Its batch is being built or written: the group takes no more copies. */
  writing: boolean;
  /** Late copies waiting for the commit, their messages unacknowledged. */
  held: { late: LateReception; message: InboundMessage | null }[];
}

export interface RawFrameCollectorOptions {
  windowMs: number;
  /** Window for join-requests. Default windowMs. */
  joinWindowMs?: number;
  /** Learns each concentrator's prefix and encoding for downlinks. */
  gateways?: GatewayRoutes;
  /** Receives each closed group or late copy, with the messages to acknowledge after commit. */
  emit(item: RawFrameItem): void;
  onError(error: unknown): void;
}

/** Gathers copies into groups and keeps each group's MQTT messages with it. */
export class RawFrameCollector {
  private readonly window: DedupWindow;
  /** Join-requests: a window of their own (all windows of one DedupWindow last as long). */
  private readonly joinWindow: DedupWindow;
  private readonly pending = new Map<string, { messages: InboundMessage[]; band: string | null }>();
  /** Groups emitted and not yet committed, by frame key. */
  private readonly unsettled = new Map<string, UnsettledGroup>();

  constructor(private readonly options: RawFrameCollectorOptions) {
    this.window = new DedupWindow({
      windowMs: options.windowMs,
      onGroup: (group) => this.closeGroup(group, false),
      onLate: (late) => this.lateCopy(late),
      onError: (error) => options.onError(error),
    });
    this.joinWindow = new DedupWindow({
      windowMs: options.joinWindowMs ?? options.windowMs,
      onGroup: (group) => this.closeGroup(group, true),
      onLate: (late) => this.lateCopy(late),
      onError: (error) => options.onError(error),
    });
  }

  private lateMessage: InboundMessage | null = null;

  offer(message: InboundMessage, frame: GatewayUplinkFrame, band: string | null, arrivedAt: Date, prefix?: string, encoding?: BridgeEncoding): void {
    const key = frameKey(frame.phyPayload);
    if (prefix !== undefined) this.options.gateways?.learn(frame.gatewayId, prefix, encoding ?? 'protobuf');
    this.lateMessage = message;
    const window = isJoinRequest(frame.phyPayload) ? this.joinWindow : this.window;
    const outcome = window.offer(frame.phyPayload, receptionOf(frame, arrivedAt), key);
    this.lateMessage = null;
    if (outcome === 'late') return;
    // The message is acknowledged with its group; the copy itself adds nothing.
    if (outcome === 'duplicate_gateway') metrics.ingestDropped.inc({ reason: 'reception_gateway_present' });
    else if (outcome === 'dropped_full') metrics.ingestDropped.inc({ reason: 'reception_group_full' });
    const entry = this.pending.get(key);
    if (entry) entry.messages.push(message);
    else this.pending.set(key, { messages: [message], band });
  }

  /** Emits every open group now (shutdown). */
  flush(): void {
    this.window.flush();
    this.joinWindow.flush();
  }

  /** The batch holding these items is being built and written: their groups take no more copies. */
  writing(items: readonly { result: unknown }[]): void {
    for (const { result } of items) {
      const entry = this.unsettledOf(result);
      if (entry) entry.writing = true;
    }
  }

  /**
   * The batch holding these items is committed (or its groups became dead letters):
   * late copies held for them go on as late items, to be merged into the stored uplink.
   */
  settled(items: readonly { result: unknown }[]): void {
    for (const { result } of items) {
      const entry = this.unsettledOf(result);
      if (!entry) continue;
      this.unsettled.delete(entry.item.group.key);
      for (const { late, message } of entry.held) this.options.emit({ kind: 'late_reception', late, messages: message ? [message] : [] });
    }
  }

  /** Late copies held for a commit, with their messages unacknowledged. */
  get heldCopies(): number {
    let n = 0;
    for (const entry of this.unsettled.values()) n += entry.held.length;
    return n;
  }

  private unsettledOf(result: unknown): UnsettledGroup | undefined {
    const item = result as RawFrameItem;
    if (item?.kind !== 'frame_group') return undefined;
    const entry = this.unsettled.get(item.group.key);
    return entry?.item === item ? entry : undefined;
  }

  private closeGroup(group: FrameGroup, join: boolean): void {
    const entry = this.pending.get(group.key);
    this.pending.delete(group.key);
    const item: FrameGroupItem = { kind: 'frame_group', group, band: entry?.band ?? null, messages: entry?.messages ?? [], join, closedAt: performance.now() };
    this.unsettled.set(group.key, { item, writing: false, held: [] });
    this.options.emit(item);
  }

  private lateCopy(late: LateReception): void {
    const message = this.lateMessage;
    const entry = this.unsettled.get(late.key);
    if (!entry) {
      this.options.emit({ kind: 'late_reception', late, messages: message ? [message] : [] });
    } else if (entry.writing) {
      entry.held.push({ late, message });
    } else {
      // Its group waits for a batch still: the copy joins it, acknowledged with it.
      const group = entry.item.group;
      if (message) entry.item.messages.push(message);
      if (group.receptions.some((r) => r.gatewayId === late.reception.gatewayId)) {
        metrics.ingestDropped.inc({ reason: 'reception_gateway_present' });
        return;
      }
      group.receptions.push({ ...late.reception, best: false });
      const best = bestReceptionIndex(group.receptions);
      group.receptions.forEach((r, i) => (r.best = i === best));
    }
  }
}
