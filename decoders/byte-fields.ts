/**
 * Helpers for the stadtfunk reference formats: fixed-point big-endian fields where the
 * all-ones value means "no value" (sensor absent or failed), so a missing sensor never
 * becomes a reading of 6553.5.
 */
export const ABSENT_U8 = 0xff;
export const ABSENT_U16 = 0xffff;
export const ABSENT_I16 = -0x8000;

export class FieldWriter {
  private readonly buf: Buffer;
  private at = 0;
  constructor(size: number) {
    this.buf = Buffer.alloc(size);
  }
  u8(v: number): this {
    this.buf.writeUInt8(v, this.at);
    this.at += 1;
    return this;
  }
  u16(v: number): this {
    this.buf.writeUInt16BE(v, this.at);
    this.at += 2;
    return this;
  }
  i16(v: number): this {
    this.buf.writeInt16BE(v, this.at);
    this.at += 2;
    return this;
  }
  u32(v: number): this {
    this.buf.writeUInt32BE(v, this.at);
    this.at += 4;
    return this;
  }
  /** Scaled unsigned 16-bit value; null or out of range → the absent marker. */
  scaledU16(v: number | null | undefined, scale: number): this {
    const raw = v === null || v === undefined ? ABSENT_U16 : Math.round(v / scale);
    return this.u16(raw >= 0 && raw < ABSENT_U16 ? raw : ABSENT_U16);
  }
  scaledI16(v: number | null | undefined, scale: number): this {
    const raw = v === null || v === undefined ? ABSENT_I16 : Math.round(v / scale);
    return this.i16(raw > ABSENT_I16 && raw <= 0x7fff ? raw : ABSENT_I16);
  }
  scaledU8(v: number | null | undefined, scale: number): this {
    const raw = v === null || v === undefined ? ABSENT_U8 : Math.round(v / scale);
    return this.u8(raw >= 0 && raw < ABSENT_U8 ? raw : ABSENT_U8);
  }
  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

export class FieldReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array, private readonly format: string) {}
  private need(n: number): void {
    if (this.at + n > this.bytes.length) throw new RangeError(`${this.format}: payload ends at byte ${this.bytes.length}, needs ${this.at + n}`);
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.at++]!;
  }
  u16(): number {
    this.need(2);
    const v = (this.bytes[this.at]! << 8) | this.bytes[this.at + 1]!;
    this.at += 2;
    return v;
  }
  i16(): number {
    const v = this.u16();
    return v >= 0x8000 ? v - 0x10000 : v;
  }
  u32(): number {
    return this.u16() * 0x10000 + this.u16();
  }
  scaledU16(scale: number): number | null {
    const v = this.u16();
    return v === ABSENT_U16 ? null : round(v * scale, scale);
  }
  scaledI16(scale: number): number | null {
    const v = this.i16();
    return v === ABSENT_I16 ? null : round(v * scale, scale);
  }
  scaledU8(scale: number): number | null {
    const v = this.u8();
    return v === ABSENT_U8 ? null : round(v * scale, scale);
  }
  remaining(): number {
    return this.bytes.length - this.at;
  }
}

/** Rounds to the decimals the scale implies (0.1 → 1 decimal), removing float noise. */
function round(v: number, scale: number): number {
  const decimals = Math.max(0, Math.ceil(-Math.log10(scale)));
  return Number(v.toFixed(decimals));
}
