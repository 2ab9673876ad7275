/**
 * Parser of $filter and $orderby expressions (OGC 18-088 §9.3.3.5, the OData grammar
 * FROST-Server also reads): recursive descent over odata-lexer's tokens, lowest
 * precedence first — or, and, not, comparison (eq ne gt ge lt le), additive (add sub),
 * multiplicative (mul div mod), then parentheses, literals, function calls and property
 * paths. Operators are matched without regard to case, as FROST-Server does.
 */
import type { BinaryOperator, Expr, Literal, OrderItem } from '../../storage/index.js';
import { fail, parseDateTime, type Token } from './odata-lexer.js';
import { parseWkt, WktError } from './wkt.js';

const COMPARE = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
/** Operator words: never property names. */
const RESERVED = new Set([...COMPARE, 'and', 'or', 'not', 'add', 'sub', 'mul', 'div', 'mod', 'asc', 'desc']);
/** Deepest nesting of parentheses and calls: a query is not a stack test. */
const MAX_DEPTH = 64;

export class ExpressionParser {
  private i = 0;
  private depth = 0;

  constructor(private readonly option: string, private readonly tokens: Token[], readonly source: string) {}

  get position(): number {
    return this.peek().pos;
  }

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }

  next(): Token {
    const t = this.peek();
    if (t.kind !== 'end') this.i++;
    return t;
  }

  isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'name' && t.text.toLowerCase() === word;
  }

  isPunct(ch: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === ch;
  }

  expectPunct(ch: string, what: string): Token {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== ch) this.unexpected(t, `expected ${what}`);
    return t;
  }

  unexpected(t: Token, expected: string): never {
    if (t.kind === 'end') fail(this.option, `${expected}, but the text ended`, t.pos);
    fail(this.option, `${expected}, found`, t.pos, this.source.slice(t.pos, t.pos + Math.max(t.text.length, 1)));
  }

  /** A whole expression that must end the text. */
  parseAll(): Expr {
    const e = this.expression();
    const t = this.peek();
    if (t.kind !== 'end') this.unexpected(t, 'expected an operator (and, or, eq, add, …) or the end');
    return e;
  }

  expression(): Expr {
    if (++this.depth > MAX_DEPTH) fail(this.option, `nested more than ${MAX_DEPTH} levels deep`, this.position);
    try {
      return this.or();
    } finally {
      this.depth--;
    }
  }

  private or(): Expr {
    let left = this.and();
    while (this.isWord('or')) {
      const op = this.next();
      left = { kind: 'binary', op: 'or', left, right: this.and(), pos: op.pos };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isWord('and')) {
      const op = this.next();
      left = { kind: 'binary', op: 'and', left, right: this.not(), pos: op.pos };
    }
    return left;
  }

  private not(): Expr {
    if (this.isWord('not') && !(this.peek(1).kind === 'punct' && this.peek(1).text === '/')) {
      const t = this.next();
      if (++this.depth > MAX_DEPTH) fail(this.option, `nested more than ${MAX_DEPTH} levels deep`, t.pos);
      try {
        return { kind: 'not', operand: this.not(), pos: t.pos };
      } finally {
        this.depth--;
      }
    }
    return this.comparison();
  }

  private comparison(): Expr {
    const left = this.additive();
    const t = this.peek();
    if (t.kind === 'name' && COMPARE.has(t.text.toLowerCase())) {
      this.next();
      const right = this.additive();
      return { kind: 'binary', op: t.text.toLowerCase() as BinaryOperator, left, right, pos: t.pos };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isWord('add') || this.isWord('sub')) {
      const t = this.next();
      left = { kind: 'binary', op: t.text.toLowerCase() as BinaryOperator, left, right: this.multiplicative(), pos: t.pos };
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.primary();
    while (this.isWord('mul') || this.isWord('div') || this.isWord('mod')) {
      const t = this.next();
      left = { kind: 'binary', op: t.text.toLowerCase() as BinaryOperator, left, right: this.primary(), pos: t.pos };
    }
    return left;
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === '(') {
      this.next();
      const e = this.expression();
      this.expectPunct(')', "')'");
      return e;
    }
    if (t.kind === 'end' || t.kind === 'punct' || (t.kind === 'name' && RESERVED.has(t.text.toLowerCase()))) this.unexpected(t, 'expected a value, a property or a function');
    if (t.kind !== 'name') return this.literal(this.next());
    const lower = t.text.toLowerCase();
    if (lower === 'true' || lower === 'false') {
      this.next();
      return { kind: 'literal', type: 'boolean', value: lower === 'true', pos: t.pos };
    }
    if (lower === 'null') {
      this.next();
      return { kind: 'literal', type: 'null', pos: t.pos };
    }
    // name( → a function call
    if (this.peek(1).kind === 'punct' && this.peek(1).text === '(') {
      this.next();
      this.next();
      const args: Expr[] = [];
      if (!this.isPunct(')')) {
        args.push(this.expression());
        while (this.isPunct(',')) {
          this.next();
          args.push(this.expression());
        }
      }
      this.expectPunct(')', "',' or ')' after a function argument");
      return { kind: 'call', name: lower, args, pos: t.pos };
    }
    return this.member();
  }

  /** A property path: name(/name)*; $it/ is the current entity. */
  member(): Expr {
    const first = this.next();
    if (first.kind !== 'name') this.unexpected(first, 'expected a property name');
    const path = [first.text];
    while (this.isPunct('/')) {
      this.next();
      const t = this.next();
      if (t.kind !== 'name') this.unexpected(t, "expected a property name after '/'");
      path.push(t.text);
    }
    if (path[0] === '$it') path.shift();
    if (path.length === 0) fail(this.option, '$it must be followed by a property', first.pos, first.text);
    return { kind: 'member', path, pos: first.pos };
  }

  private literal(t: Token): Literal {
    switch (t.kind) {
      case 'string': return { kind: 'literal', type: 'string', value: t.text, pos: t.pos };
      case 'number': {
        const value = Number(t.text);
        if (!Number.isFinite(value)) fail(this.option, 'number out of range', t.pos, t.text);
        return { kind: 'literal', type: 'number', value, integer: /^[+-]?\d+$/.test(t.text), pos: t.pos };
      }
      case 'datetime': {
        const v = parseDateTime(t.text.replace(/ (\d{2}:\d{2})$/, '+$1'));
        if (!v) fail(this.option, 'not a valid date and time', t.pos, t.text);
        return { kind: 'literal', type: 'datetime', value: v, pos: t.pos };
      }
      case 'interval': {
        const slash = t.text.indexOf('/', 20);
        const start = parseDateTime(t.text.slice(0, slash).replace(/ (\d{2}:\d{2})$/, '+$1'));
        const end = parseDateTime(t.text.slice(slash + 1).replace(/ (\d{2}:\d{2})$/, '+$1'));
        if (!start || !end) fail(this.option, 'not a valid time interval', t.pos, t.text);
        if (end.micros < start.micros) fail(this.option, 'the interval ends before it starts', t.pos, t.text);
        return { kind: 'literal', type: 'interval', start, end, pos: t.pos };
      }
      case 'date': {
        const [y, m, d] = t.text.split('-').map(Number);
        const at = new Date(0);
        at.setUTCFullYear(y!, m! - 1, d!);
        if (at.getUTCDate() !== d || at.getUTCMonth() !== m! - 1) fail(this.option, 'not a valid date', t.pos, t.text);
        return { kind: 'literal', type: 'date', value: t.text, pos: t.pos };
      }
      case 'timeofday': {
        const [h, m, s] = t.text.split(':').map(Number);
        if (h! > 23 || m! > 59 || (s ?? 0) >= 60) fail(this.option, 'not a valid time of day', t.pos, t.text);
        return { kind: 'literal', type: 'timeofday', value: t.text, pos: t.pos };
      }
      case 'duration': {
        // ISO 8601 durations; PostgreSQL reads them as intervals (a sign is written before the P).
        if (!/^[+-]?P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/.test(t.text)) {
          fail(this.option, "not an ISO 8601 duration such as duration'P1D' or duration'PT15M'", t.pos, t.text);
        }
        return { kind: 'literal', type: 'duration', value: t.text, pos: t.pos };
      }
      case 'geography':
        try {
          return { kind: 'literal', type: 'geometry', value: parseWkt(t.text), pos: t.pos };
        } catch (error) {
          if (!(error instanceof WktError)) throw error;
          // Position inside the WKT, counted from the literal's opening quote.
          const at = t.pos + this.source.slice(t.pos).indexOf("'") + 1 + error.pos;
          fail(this.option, `geography: ${error.message}`, at, t.text.slice(error.pos, error.pos + 20));
        }
      default:
        this.unexpected(t, 'expected a value');
    }
  }

  /** $orderby items: expression [asc|desc], comma-separated, until `stop` or the end. */
  orderby(): OrderItem[] {
    const items: OrderItem[] = [];
    for (;;) {
      const expr = this.expression();
      let descending = false;
      if (this.isWord('asc') || this.isWord('desc')) descending = this.next().text.toLowerCase() === 'desc';
      items.push({ expr, descending });
      if (!this.isPunct(',')) break;
      this.next();
    }
    return items;
  }
}
