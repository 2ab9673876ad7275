/**
 * The system query options of a SensorThings request (OGC 18-088 §9.3): $filter,
 * $orderby, $select, $expand (with options nested in parentheses, separated by ';'),
 * $top, $skip, $count and $resultFormat, and $skiptoken from the service's own next links. Checked once here, at the edge; what passes
 * travels as a typed QueryOptions tree. Unknown $-options and repeated ones are refused.
 */
import { emptyOptions, type ExpandItem, type QueryOptions, type SkipToken } from '../../storage/index.js';
import { fail, tokenize } from './odata-lexer.js';
import { ExpressionParser } from './odata-parser.js';

/** Most items in one $select, $orderby or $expand list, and deepest $expand. */
const MAX_ITEMS = 50;
const MAX_EXPAND_DEPTH = 6;
const MAX_OPTION_LENGTH = 20_000;

const OPTION_NAMES = ['$filter', '$orderby', '$select', '$expand', '$top', '$skip', '$count', '$resultFormat', '$skiptoken'];

export function parseQueryOptions(query: Record<string, unknown>): QueryOptions {
  const options = emptyOptions();
  for (const [name, raw] of Object.entries(query)) {
    if (!name.startsWith('$')) continue;
    const known = OPTION_NAMES.find((o) => o.toLowerCase() === name.toLowerCase());
    if (!known) fail(name, `unknown query option (known: ${OPTION_NAMES.join(', ')})`, 0, name);
    if (Array.isArray(raw)) fail(known, 'given more than once', 0);
    const value = String(raw ?? '');
    if (value.length > MAX_OPTION_LENGTH) fail(known, `longer than ${MAX_OPTION_LENGTH} characters`, MAX_OPTION_LENGTH);
    applyOption(options, known, value, 0);
    (options.text ??= {})[known] = value;
  }
  return options;
}

function applyOption(options: QueryOptions, name: string, value: string, depth: number): void {
  switch (name) {
    case '$top': options.top = whole(name, value); break;
    case '$skip': options.skip = whole(name, value); break;
    case '$skiptoken': options.skipToken = parseSkipToken(name, value); break;
    case '$count':
      if (!/^(true|false)$/i.test(value.trim())) fail(name, 'must be true or false', 0, value);
      options.count = value.trim().toLowerCase() === 'true';
      break;
    case '$resultFormat':
      if (value.trim().toLowerCase() !== 'dataarray') fail(name, 'the supported format is dataArray', 0, value);
      options.dataArray = true;
      break;
    case '$filter': {
      const p = new ExpressionParser(name, tokenize(name, value), value);
      options.filter = p.parseAll();
      break;
    }
    case '$orderby': {
      const p = new ExpressionParser(name, tokenize(name, value), value);
      options.orderby = p.orderby();
      if (p.peek().kind !== 'end') p.unexpected(p.peek(), "expected ',' or the end");
      if (options.orderby.length > MAX_ITEMS) fail(name, `more than ${MAX_ITEMS} items`, 0);
      break;
    }
    case '$select': {
      const p = new ExpressionParser(name, tokenize(name, value), value);
      options.select = selectList(p, name);
      if (p.peek().kind !== 'end') p.unexpected(p.peek(), "expected ',' or the end");
      break;
    }
    case '$expand': {
      const p = new ExpressionParser(name, tokenize(name, value), value);
      options.expand = expandList(p, name, depth);
      if (p.peek().kind !== 'end') p.unexpected(p.peek(), "expected ',' or the end");
      break;
    }
  }
}

/** A $skiptoken as nextLink writes it (api/sta/serialize.ts skipTokenText): t0~t1~datastream. */
function parseSkipToken(name: string, value: string): SkipToken {
  const m = /^(-?\d{1,18})~(-?\d{1,18})~(\d{1,19})$/.exec(value.trim());
  if (!m) fail(name, 'not a skip token of this service (take the @iot.nextLink as it is)', 0, value);
  return { t0: BigInt(m[1]!), t1: BigInt(m[2]!), datastreamId: BigInt(m[3]!) };
}

function whole(name: string, value: string): number {
  const v = value.trim();
  if (!/^\d{1,9}$/.test(v)) fail(name, 'must be a whole number from 0', 0, value);
  return Number(v);
}

function selectList(p: ExpressionParser, option: string): string[] {
  const names: string[] = [];
  for (;;) {
    const t = p.next();
    if (t.kind !== 'name') p.unexpected(t, 'expected a property name');
    // A path selects its first property (properties/kind selects properties).
    let text = t.text;
    while (p.isPunct('/')) {
      p.next();
      const sub = p.next();
      if (sub.kind !== 'name') p.unexpected(sub, "expected a property name after '/'");
      text = text || sub.text;
    }
    names.push(text === '@iot.id' ? 'id' : text);
    if (names.length > MAX_ITEMS) fail(option, `more than ${MAX_ITEMS} items`, t.pos);
    if (!p.isPunct(',')) return names;
    p.next();
  }
}

/** Expand items until the end or a ')' that closes an enclosing item. */
function expandList(p: ExpressionParser, option: string, depth: number): ExpandItem[] {
  if (depth >= MAX_EXPAND_DEPTH) fail(option, `$expand nested more than ${MAX_EXPAND_DEPTH} levels deep`, p.position);
  const items: ExpandItem[] = [];
  for (;;) {
    const first = p.next();
    if (first.kind !== 'name' || first.text.startsWith('$')) p.unexpected(first, 'expected a navigation property to expand');
    const path = [first.text];
    while (p.isPunct('/')) {
      p.next();
      const t = p.next();
      if (t.kind !== 'name') p.unexpected(t, "expected a navigation property after '/'");
      path.push(t.text);
    }
    const options = emptyOptions();
    if (p.isPunct('(')) {
      p.next();
      if (!p.isPunct(')')) {
        for (;;) {
          const o = p.next();
          const known = o.kind === 'name' ? OPTION_NAMES.find((n) => n.toLowerCase() === o.text.toLowerCase() && n !== '$resultFormat' && n !== '$skiptoken') : undefined;
          if (!known) p.unexpected(o, 'expected a query option ($filter, $select, $expand, $orderby, $top, $skip, $count)');
          p.expectPunct('=', "'=' after the option name");
          const start = p.position;
          nestedOption(p, options, known, depth);
          (options.text ??= {})[known] = p.source.slice(start, p.position).trim();
          if (p.isPunct(';')) {
            p.next();
            continue;
          }
          break;
        }
      }
      p.expectPunct(')', "';' or ')' after an expand option");
    }
    items.push({ path, options, pos: first.pos });
    if (items.length > MAX_ITEMS) fail(option, `more than ${MAX_ITEMS} items`, first.pos);
    if (!p.isPunct(',')) return items;
    p.next();
  }
}

function nestedOption(p: ExpressionParser, options: QueryOptions, name: string, depth: number): void {
  switch (name) {
    case '$filter': options.filter = p.expression(); return;
    case '$orderby': options.orderby = p.orderby(); return;
    case '$select': options.select = selectList(p, name); return;
    case '$expand': options.expand = expandList(p, name, depth + 1); return;
    default: {
      // $top, $skip, $count: one token, checked here so an error points into $expand.
      const t = p.next();
      if (name === '$count') {
        if (t.kind !== 'name' || !/^(true|false)$/i.test(t.text)) p.unexpected(t, '$count must be true or false');
        options.count = t.text.toLowerCase() === 'true';
      } else {
        if (t.kind !== 'number' || !/^\d{1,9}$/.test(t.text)) p.unexpected(t, `${name} must be a whole number from 0`);
        if (name === '$top') options.top = Number(t.text);
        else options.skip = Number(t.text);
      }
    }
  }
}
