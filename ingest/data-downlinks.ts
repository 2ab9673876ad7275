/**
 * After the uplinks of a batch are accepted: what each device gets back in its receive
 * windows (lorawan/downlink-planner.ts decides), with the device's queued application
 * downlink read with its session (selectAbpCandidates), ADR fed with the uplink's
 * SNR, and the ACK bit settling a confirmed downlink that went out.
 *
 * Only the newest uplink of a device in the batch is answered: the windows of an older
 * one have passed by the time the batch is written.
 */
import type { LorawanConfig } from '../lorawan-config.js';
import { adrDecision, type AdrTracker } from './lorawan/adr.js';
import { planDataDownlink } from './lorawan/downlink-planner.js';
import type { FrameOutcome } from './lorawan/frame-processor.js';
import { dataRateIndex } from './lorawan/region.js';
import type { GatewayRoutes } from './gateway-routes.js';
import { outgoingOf } from './outgoing-downlinks.js';
import type { RawFrameItem, ResolvedFrames } from './raw-frames.js';
import type { Uplink } from './types.js';

export interface AcceptedUplink {
  item: Extract<RawFrameItem, { kind: 'frame_group' }>;
  outcome: Extract<FrameOutcome, { kind: 'uplink' }>;
  uplink: Uplink;
}

export interface DataDownlinkDeps {
  adr: AdrTracker;
  lorawan: Readonly<LorawanConfig>;
  gateways: GatewayRoutes;
}

export function planDataDownlinks(accepted: AcceptedUplink[], out: ResolvedFrames, deps: DataDownlinkDeps): void {
  if (accepted.length === 0) return;
  const newest = new Map<string, AcceptedUplink>();
  for (const a of accepted) {
    const seen = newest.get(a.outcome.devEui);
    if (!seen || seen.outcome.fCnt32 <= a.outcome.fCnt32 || a.outcome.session.pending) newest.set(a.outcome.devEui, a);
  }
  for (const a of newest.values()) {
    const { outcome, item, uplink } = a;
    const session = outcome.session;
    if (session.openDownlinks) out.deviceAcks.push({ devEui: outcome.devEui, ack: outcome.ack, at: uplink.receivedAt, uplinkId: uplink.id });
    const region = item.band ? deps.lorawan.regions[item.band] : undefined;
    if (!region) continue;
    const best = item.group.receptions.find((r) => r.best) ?? item.group.receptions[0];
    const adrState = deps.adr.observe(outcome.devEui, best?.snrDb ?? null);
    for (const c of outcome.macCommands) if (c.name === 'LinkADRAns' && 'payload' in c) deps.adr.answered(outcome.devEui, c.payload[0] ?? 0);
    const dataRate = dataRateIndex(region, best?.spreadingFactor ?? null, best?.bandwidthHz ?? null);
    const adrRequest = outcome.adr && dataRate !== null && best?.spreadingFactor != null && adrState.requested === null
      ? adrDecision({ snrHistoryDb: adrState.snrs, dataRate, spreadingFactor: best.spreadingFactor, txPowerIndex: adrState.txPowerIndex, region, marginDb: deps.lorawan.adrMarginDb })
      : null;
    const plan = planDataDownlink({
      devEui: outcome.devEui,
      devAddr: session.devAddr,
      nwkSKey: session.nwkSKey,
      appSKey: session.appSKey,
      fCntDown: session.pending ? null : (session.fCntDown ?? null),
      uplink: { confirmed: uplink.confirmed, adrAckReq: outcome.adrAckReq, receptions: item.group.receptions, receivedAt: best?.receivedAt ?? uplink.receivedAt },
      macCommands: outcome.macCommands,
      region,
      devStatusDue: session.devStatusDue ?? false,
      adrRequest,
      queued: session.queued ?? null,
    });
    if (!plan) continue;
    const route = deps.gateways.get(plan.windows.gatewayId);
    if (!route) continue;
    const adrSent = plan.mac.find((m) => m.name === 'LinkADRReq');
    if (adrSent && adrSent.name === 'LinkADRReq') deps.adr.requested(outcome.devEui, { dataRate: adrSent.dataRate, txPowerIndex: adrSent.txPowerIndex });
    const planned = {
      record: {
        devEui: outcome.devEui, kind: 'data' as const, gatewayId: plan.windows.gatewayId, fCntDown: plan.fCntDown, fPort: plan.fPort,
        queueId: plan.queueId, confirmed: plan.confirmed, ack: plan.ack, macCommands: plan.mac.map((m) => m.name),
      },
      after: { uplinkId: uplink.id },
      counter: { devEui: outcome.devEui, previous: session.pending ? null : (session.fCntDown ?? null), next: plan.fCntDown },
      devStatusReq: plan.mac.some((m) => m.name === 'DevStatusReq'),
    };
    outgoingOf.set(planned, {
      prefix: route.prefix, encoding: route.encoding, gatewayId: plan.windows.gatewayId, context: plan.windows.context,
      items: plan.windows.items.map((tx) => ({ phyPayload: plan.phyPayload, tx })), firstSeenAt: item.group.firstSeenAt, windowClosedAt: item.closedAt ?? null,
    });
    out.downlinks.push(planned);
  }
}
