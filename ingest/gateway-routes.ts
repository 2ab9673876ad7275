/**
 * How each concentrator is reached for downlinks: the topic prefix its uplinks came
 * under and the encoding its gateway bridge speaks (its marshaler serves both
 * directions). Learnt from every `event/up`; bounded, oldest gateway forgotten first.
 */
import { FifoMap } from './fifo-map.js';
import type { BridgeEncoding } from './lorawan/gateway-downlink.js';

const MAX_GATEWAYS = 10_000;

export interface GatewayRoute {
  prefix: string;
  encoding: BridgeEncoding;
}

export class GatewayRoutes {
  private readonly routes = new FifoMap<string, GatewayRoute>();

  learn(gatewayId: string, prefix: string, encoding: BridgeEncoding): void {
    const known = this.routes.get(gatewayId);
    if (known && known.prefix === prefix && known.encoding === encoding) return;
    if (!known && this.routes.size >= MAX_GATEWAYS) this.routes.shift();
    this.routes.set(gatewayId, { prefix, encoding });
  }

  get(gatewayId: string): GatewayRoute | null {
    return this.routes.get(gatewayId) ?? null;
  }
}
