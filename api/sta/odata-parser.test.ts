/** The $filter/$orderby parser: precedence, literals, positions of errors. */
import { describe, expect, it } from 'vitest';
import type { Expr } from '../../storage/index.js';
import { tokenize } from './odata-lexer.js';
import { ExpressionParser } from './odata-parser.js';
import { parseQueryOptions } from './query-options.js';

const parse = (text: string): Expr => new ExpressionParser('$filter', tokenize('$filter', text), text).parseAll();

/** A compact rendering: (op left right), call(args), path, literals. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'binary': return `(${e.op} ${show(e.left)} ${show(e.right)})`;
    case 'not': return `(not ${show(e.operand)})`;
    case 'call': return `${e.name}(${e.args.map(show).join(',')})`;
    case 'member': return e.path.join('/');
    case 'literal':
      switch (e.type) {
        case 'string': return `'${e.value}'`;
        case 'number': return String(e.value);
        case 'datetime': return `@${e.value.micros}${e.value.offsetMinutes ? `${e.value.offsetMinutes > 0 ? '+' : ''}${e.value.offsetMinutes}` : ''}`;
        case 'interval': return `@${e.start.micros}/${e.end.micros}`;
        case 'geometry': return e.value.type;
        case 'null': return 'null';
        case 'boolean': return String(e.value);
        default: return `${e.type}:${e.value}`;
      }
  }
}

describe('precedence (OGC 18-088 Table 27, as FROST-Server reads it)', () => {
  it.each([
    ['result eq 2 and result eq 1 or result eq 1', '(or (and (eq result 2) (eq result 1)) (eq result 1))'],
    ['result eq 2 and (result eq 1 or result eq 1)', '(and (eq result 2) (or (eq result 1) (eq result 1)))'],
    ['not result lt 1 and not result gt 1', '(and (not (lt result 1)) (not (gt result 1)))'],
    ['1 add result mul 2 sub -1 eq 4', '(eq (sub (add 1 (mul result 2)) -1) 4)'],
    ['14 div (result add 1) mod 3 mul 3 eq 3', '(eq (mul (mod (div 14 (add result 1)) 3) 3) 3)'],
    ['Datastream/Thing/name EQ \'x\' AND NOT startswith(name, \'a\')', "(and (eq Datastream/Thing/name 'x') (not startswith(name,'a')))"],
    ["geo.distance(location, geography'POINT(1 2)') lt 0.5", '(lt geo.distance(location,Point) 0.5)'],
    ['now() sub duration\'P1D\' lt phenomenonTime', "(lt (sub now() duration:P1D) phenomenonTime)"],
  ])('%s', (text, tree) => {
    expect(show(parse(text))).toBe(tree);
  });
});

describe('literals', () => {
  it("reads strings with doubled quotes, numbers with signs and exponents, times with offsets", () => {
    expect(show(parse("name eq 'Bob''s'"))).toBe("(eq name 'Bob's')");
    expect(show(parse('result gt -1.5e3'))).toBe('(gt result -1500)');
    expect(show(parse('phenomenonTime gt 2020-01-01T00:00:00Z'))).toBe('(gt phenomenonTime @1577836800000000)');
    expect(show(parse('phenomenonTime gt 2020-01-01T01:00:00.123456+01:00'))).toBe('(gt phenomenonTime @1577836800123456+60)');
    // A + decoded to a space by form decoding is still the offset.
    expect(show(parse('phenomenonTime gt 2020-01-01T01:00:00 01:00'))).toBe('(gt phenomenonTime @1577836800000000+60)');
    expect(show(parse('phenomenonTime eq 2020-01-01T00:00:00Z/2020-01-01T01:00:00Z'))).toBe('(eq phenomenonTime @1577836800000000/1577840400000000)');
    expect(show(parse('date(phenomenonTime) eq 2020-02-29 and time(phenomenonTime) lt 12:30:00'))).toBe('(and (eq date(phenomenonTime) date:2020-02-29) (lt time(phenomenonTime) timeofday:12:30:00))');
    expect(show(parse('year(0099-01-01T00:00:00Z) eq 99'))).toBe('(eq year(@-59042995200000000) 99)');
  });
});

describe('errors point at the offending token', () => {
  const error = (text: string): { position: number; token?: string; message: string } => {
    try {
      parse(text);
    } catch (e) {
      return { ...(e as { details: { position: number; token?: string } }).details, message: (e as Error).message };
    }
    throw new Error(`no error for ${text}`);
  };
  it.each([
    ['name eq', 7, undefined],
    ['name eq eq', 8, 'eq'],
    ['(name eq 1', 10, undefined],
    ["name eq 'x", 8, "'x"],
    ['name eq 1)', 9, ')'],
    ['name eq 12abc', 8, '12a'],
    ['name eq 2020-02-30T00:00:00Z', 8, '2020-02-30T00:00:00Z'],
    ["duration'P' lt 1", 0, 'P'],
    ["st_within(location, geography'POINT(1)')", 37, ')'],
    ['name # 1', 5, '#'],
    ['f(,)', 2, ','],
  ])('%s → position %i', (text, position, token) => {
    const e = error(text);
    expect(e.position).toBe(position);
    if (token !== undefined) expect(e.token).toBe(token);
    expect(e.message).toMatch(/^\$filter: /);
  });

  it('refuses nesting deeper than 64 levels instead of overflowing the stack', () => {
    expect(() => parse(`${'('.repeat(5000)}1${')'.repeat(5000)}`)).toThrow(/nested more than 64/);
    expect(() => parse(`${'not '.repeat(5000)}true`)).toThrow(/nested more than 64/);
  });
});

describe('query options', () => {
  it('reads nested $expand options and keeps their text for next links', () => {
    const o = parseQueryOptions({ $expand: "Datastreams($filter=name eq 'a;b';$top=2;$expand=Observations($top=1;$orderby=phenomenonTime desc)),Locations", $top: '5', $count: 'true' });
    expect(o.top).toBe(5);
    expect(o.count).toBe(true);
    expect(o.expand.map((e) => e.path.join('/'))).toEqual(['Datastreams', 'Locations']);
    const ds = o.expand[0]!.options;
    expect(show(ds.filter!)).toBe("(eq name 'a;b')");
    expect(ds.top).toBe(2);
    expect(ds.text).toEqual({ $filter: "name eq 'a;b'", $top: '2', $expand: 'Observations($top=1;$orderby=phenomenonTime desc)' });
    expect(ds.expand[0]!.options.orderby.map((x) => [show(x.expr), x.descending])).toEqual([['phenomenonTime', true]]);
  });
  it('refuses unknown and repeated options', () => {
    expect(() => parseQueryOptions({ $fliter: 'x' })).toThrow(/unknown query option/);
    expect(() => parseQueryOptions({ $top: ['1', '2'] })).toThrow(/more than once/);
    expect(() => parseQueryOptions({ $count: 'yes' })).toThrow(/true or false/);
    expect(() => parseQueryOptions({ $expand: 'Datastreams($resultFormat=dataArray)' })).toThrow(/expected a query option/);
  });
});
