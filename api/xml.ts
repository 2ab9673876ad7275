/**
 * The little XML the DATEX II and RDF/XML writers need: text and attribute values escaped, and
 * characters XML 1.0 cannot carry at all (§2.2: C0 controls other than tab, line feed and
 * carriage return, lone surrogates, U+FFFE and U+FFFF) replaced by U+FFFD, so any name a
 * technician typed yields a well-formed document.
 */

const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const TEXT_SPECIAL = /[&<>]/g;
const ATTR_SPECIAL = /[&<>"\t\n\r]/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

/** The value with every character XML 1.0 cannot carry replaced by U+FFFD. */
export function xmlSafe(value: string): string {
  return value.replace(NOT_XML, '\uFFFD');
}

/** Element content. Carriage returns are kept as a reference (a parser would turn a raw one into a line feed). */
export function xmlText(value: string): string {
  return value.replace(NOT_XML, '\uFFFD').replace(TEXT_SPECIAL, (c) => ENTITIES[c]!).replace(/\r/g, '&#13;');
}

/** An attribute value in double quotes (whitespace as references, which attribute normalisation keeps). */
export function xmlAttr(value: string): string {
  return value.replace(NOT_XML, '\uFFFD').replace(ATTR_SPECIAL, (c) => ENTITIES[c]!);
}

/** At most `max` code points (DATEX II MultilingualStringValueType allows 1,024), never splitting a surrogate pair. */
export function clip(value: string, max: number): string {
  if (value.length <= max) return value;
  return Array.from(value).slice(0, max).join('');
}

/** xs:dateTime with its offset: UTC as `Z`, milliseconds as German feeds write them. */
export function xmlTime(time: Date): string {
  return time.toISOString();
}

/** A decimal without exponent for xs:float / xs:decimal fields (coordinates, percentages). */
export function xmlNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const text = String(value);
  return text.includes('e') ? value.toFixed(9).replace(/0+$/, '') : text;
}

/**
 * A document given as its lines: each line followed by a line feed. Writers that list
 * one element per site or record produce lines lazily (a generator), so that a large
 * document can also be written in slices (linesInSlices).
 */
export function joinLines(lines: Iterable<string>): string {
  let text = '';
  for (const line of lines) text += `${line}\n`;
  return text;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The same bytes as `Buffer.from(joinLines(lines))`, written `linesPerSlice` lines at a
 * time with a turn of the event loop between slices: a document of some hundred KB built
 * in the background then delays a request by one slice, not by the whole document.
 */
export async function linesInSlices(lines: Iterable<string>, linesPerSlice = 100): Promise<Buffer> {
  const slices: Buffer[] = [];
  let text = '';
  let count = 0;
  for (const line of lines) {
    text += `${line}\n`;
    if (++count % linesPerSlice === 0) {
      slices.push(Buffer.from(text, 'utf8'));
      text = '';
      await yieldToLoop();
    }
  }
  slices.push(Buffer.from(text, 'utf8'));
  return Buffer.concat(slices);
}
