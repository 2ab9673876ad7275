/**
 * Keys opened from their sealed form (lorawan/key-vault.ts), cached by sealed form and AAD,
 * the newest `max` of them.
 *
 * Design note. A key's crypto state (its AES-CMAC and AES-ECB contexts) hangs on the opened
 * Buffer (lorawan/key-contexts.ts), so whatever this keeps, every full collection marks again.
 * Session keys serve each uplink of a device, so many are kept. An AppKey serves only while
 * its device joins (the request, the accept, a retry seconds later): kept like session keys,
 * the AppKeys of a join storm stayed, with their contexts, until the next rejoin.
 */
import { FifoMap } from './fifo-map.js';

export class OpenedKeys {
  private readonly keys = new FifoMap<string, Buffer>();

  constructor(
    private readonly open: (sealed: string, aad: string) => Buffer,
    private readonly max: number,
  ) {}

  /** The opened key: the same Buffer as long as it is kept. @throws what `open` throws. */
  get(sealed: string, aad: string): Buffer {
    const cacheKey = `${aad}\u0000${sealed}`;
    let key = this.keys.get(cacheKey);
    if (!key) {
      key = this.open(sealed, aad);
      if (this.keys.size >= this.max) this.keys.shift();
      this.keys.set(cacheKey, key);
    }
    return key;
  }

  get size(): number {
    return this.keys.size;
  }
}
