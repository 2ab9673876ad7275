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
