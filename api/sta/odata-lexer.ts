/**
 * Tokens of SensorThings query options ($filter, $orderby, $select, $expand and the
 * options nested in $expand), after OGC 18-088 §9.3 and the OData 4.01 URL conventions
 * it builds on. Every token keeps its position (0-based, in characters of the option's
 * value) for error messages.
 *
 * Literals: 'text' ('' is a quote), numbers, true/false/null, date-times
 * (2020-01-01T12:00:00Z, with an offset, or with +hh:mm decoded to a space by a form
 * decoder), intervals (datetime/datetime), dates, times of day, duration'P1D' and
 * geography'POINT(…)' (also geometry'…').
 */
import { StaQueryError } from '../../storage/index.js';

export type TokenKind = 'string' | 'number' | 'datetime' | 'interval' | 'date' | 'timeofday' | 'duration' | 'geography' | 'name' | 'punct' | 'end';

export interface Token {
  kind: TokenKind;
  /** The text as written (for strings and typed literals: the content, unquoted). */
  text: string;
  pos: number;
}

/** A date-time: date, 'T', time with optional fraction, and a zone (Z, ±hh:mm, or " hh:mm" where a + was decoded to a space). */
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}:\d{2}| \d{2}:\d{2})/;
const DATE = /^\d{4}-\d{2}-\d{2}(?![\dT])/;
const TIMEOFDAY = /^\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?![\d:])/;
const NUMBER = /^(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+)/;
const NAME = /^[A-Za-z_$@][A-Za-z0-9_.@$]*(?:\[\d+\])*/;
const PUNCT = '()/,;=:';

export function fail(option: string, message: string, pos: number, token?: string): never {
  throw new StaQueryError(`${option}: ${message} at position ${pos}${token !== undefined ? ` ('${token.length > 40 ? `${token.slice(0, 40)}…` : token}')` : ''}`, { option, position: pos, ...(token === undefined ? {} : { token }), status: 400 });
}

export function tokenize(option: string, text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    const rest = text.slice(i);
    if (ch === "'") {
      const { value, end } = quoted(option, text, i);
      tokens.push({ kind: 'string', text: value, pos: i });
      i = end;
      continue;
    }
    const typed = /^(geography|geometry|duration)'/i.exec(rest);
    if (typed) {
      const { value, end } = quoted(option, text, i + typed[1]!.length);
      tokens.push({ kind: typed[1]!.toLowerCase() === 'duration' ? 'duration' : 'geography', text: value, pos: i });
      i = end;
      continue;
    }
    const dt = DATETIME.exec(rest);
    if (dt) {
      let end = i + dt[0].length;
      let kind: TokenKind = 'datetime';
      const after = DATETIME.exec(text.slice(end + 1));
      if (text[end] === '/' && after) {
        end += 1 + after[0].length;
        kind = 'interval';
      }
      tokens.push({ kind, text: text.slice(i, end), pos: i });
      i = end;
      continue;
    }
    const date = DATE.exec(rest);
    if (date) {
      tokens.push({ kind: 'date', text: date[0], pos: i });
      i += date[0].length;
      continue;
    }
    const tod = TIMEOFDAY.exec(rest);
    if (tod) {
      tokens.push({ kind: 'timeofday', text: tod[0], pos: i });
      i += tod[0].length;
      continue;
    }
    // A sign belongs to a number when no value stands before it (1 sub -1, (-2), f(x, -3)).
    const prev = tokens[tokens.length - 1];
    const signAllowed = !prev || (prev.kind === 'punct' && prev.text !== ')') || (prev.kind === 'name' && /^(eq|ne|gt|ge|lt|le|add|sub|mul|div|mod|and|or|not)$/i.test(prev.text));
    const num = (ch === '-' || ch === '+') && signAllowed ? NUMBER.exec(rest.slice(1)) : NUMBER.exec(rest);
    if (num) {
      const signed = (ch === '-' || ch === '+') && signAllowed;
      const len = num[0].length + (signed ? 1 : 0);
      // A number glued to letters (12abc) is not a number.
      if (/[A-Za-z_]/.test(text[i + len] ?? '') && !/^[eE]/.test(text[i + len] ?? '')) fail(option, 'a number runs into letters', i, text.slice(i, i + len + 1));
      tokens.push({ kind: 'number', text: text.slice(i, i + len), pos: i });
      i += len;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      tokens.push({ kind: 'name', text: name[0], pos: i });
      i += name[0].length;
      continue;
    }
    if (PUNCT.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch, pos: i });
      i++;
      continue;
    }
    fail(option, `unexpected character ${JSON.stringify(ch)}`, i, ch);
  }
  tokens.push({ kind: 'end', text: '', pos: text.length });
  return tokens;
}

/** A quoted string starting at `start` (the opening quote); '' inside is one quote. */
function quoted(option: string, text: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  for (;;) {
    if (i >= text.length) fail(option, 'string not closed: a \' is missing', start, text.slice(start, start + 20));
    const ch = text[i]!;
    if (ch === "'") {
      if (text[i + 1] === "'") {
        value += "'";
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    value += ch;
    i++;
  }
}

/** Epoch microseconds and offset of a DATETIME match; null when the calendar fields are impossible. */
export function parseDateTime(text: string): { micros: bigint; offsetMinutes: number } | null {
  const m = DATETIME.exec(text);
  if (!m || m[0].length !== text.length) return null;
  const [y, mo, d, h, mi] = [1, 2, 3, 4, 5].map((k) => Number(m[k]));
  const s = Number(m[6] ?? '0');
  if (mo! < 1 || mo! > 12 || d! < 1 || h! > 23 || mi! > 59 || s > 59) return null;
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const at = new Date(0);
  at.setUTCFullYear(y!, mo! - 1, d!);
  if (at.getUTCDate() !== d) return null;
  at.setUTCHours(h!, mi!, s, 0);
  const zone = m[8]!;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const [oh, om] = zone.slice(1).split(':').map(Number);
    if (oh! > 23 || om! > 59) return null;
    offsetMinutes = sign * (oh! * 60 + om!);
  }
  const ms = at.getTime() - offsetMinutes * 60_000;
  if (!Number.isFinite(ms)) return null;
  const fraction = (m[7] ?? '').padEnd(6, '0').slice(0, 6);
  return { micros: BigInt(ms) * 1000n + BigInt(fraction || '0'), offsetMinutes };
}
