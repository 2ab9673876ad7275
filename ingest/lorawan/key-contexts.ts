/**
 * State made from a key (an OpenSSL cipher context, derived subkeys) and kept for as long
 * as the key Buffer itself lives. The state is made again when the Buffer's bytes were
 * changed in place since it was made.
 *
 * Design note. The state hangs on the key Buffer, under a symbol of its own per
 * KeyContexts (not enumerable: a spread or Object.keys of the Buffer does not show it),
 * so it goes when the Buffer goes. It was a WeakMap keyed by the Buffer, which does the
 * same, but each WeakMap entry is an ephemeron, and V8 marks ephemerons in the pause of
 * every full collection: after a join storm of 10,000 devices (one AppKey each) they
 * took 7–14 ms of the 15–34 ms mark-compact pauses (`--trace-gc-nvp`,
 * mark.ephemeron.marking, `bench joins`). A property is an ordinary reference.
 */
interface Held<T> {
  bytes: Buffer;
  context: T;
}

export class KeyContexts<T> {
  private readonly slot = Symbol('key context');

  constructor(private readonly make: (key: Buffer) => T) {}

  get(key: Buffer): T {
    const known = (key as unknown as Record<symbol, Held<T> | undefined>)[this.slot];
    if (known && known.bytes.equals(key)) return known.context;
    const context = this.make(key);
    const held: Held<T> = { bytes: Buffer.from(key), context };
    Object.defineProperty(key, this.slot, { value: held, configurable: true, writable: true, enumerable: false });
    return context;
  }
}
