/**
 * State made from a key (an OpenSSL cipher context, derived subkeys) and kept for as long
 * as the key Buffer itself lives: the WeakMap entry goes with the Buffer. The state is
 * made again when the Buffer's bytes were changed in place since it was made.
 */
export class KeyContexts<T> {
  private readonly byKey = new WeakMap<Buffer, { bytes: Buffer; context: T }>();

  constructor(private readonly make: (key: Buffer) => T) {}

  get(key: Buffer): T {
    const known = this.byKey.get(key);
    if (known && known.bytes.equals(key)) return known.context;
    const context = this.make(key);
    this.byKey.set(key, { bytes: Buffer.from(key), context });
    return context;
  }
}
