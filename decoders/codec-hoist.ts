/**
 * Constant tables hoisted out of a codec's functions, so that they are built once per
 * codec instead of once per uplink.
 *
 * Why: the largest vendor codecs are large because of one table. Tektelic's decoders
 * (60–95 KB, TheThingsNetwork/lorawan-devices vendor/tektelic/decoder_*.js) open
 * `decodeUplink` with `var sensor = { "10": { "0x00 0xFF": [ { "data_size": "2", … } ] … } }`
 * of some 2,300 lines, which QuickJS evaluates anew for every call: most of a call's
 * time (issue 24: 3–5k decodes/s against ≥ 10k wanted).
 *
 * What is hoisted: an object or array literal inside a function whose every leaf is a
 * literal (strings, numbers, booleans, null, templates without substitutions, signed
 * numbers), with plain keys, and big enough to matter. It is evaluated once when the
 * codec loads and the function refers to that one value instead.
 *
 * Why it is safe: the only difference a codec could notice is that the table is the
 * same object on every call, which matters only if the codec changes it. So every
 * object of a hoisted table sits behind a Proxy whose set, defineProperty,
 * deleteProperty, setPrototypeOf and preventExtensions traps count the attempt and
 * throw (in sloppy code too). A call that tripped the guard is discarded by the runner
 * (MUTATION_MARK) and the sandbox compiles the codec as written and runs the call
 * again (codec-sandbox.ts); reads go through unchanged.
 */
import { parse, type Node } from 'acorn';

/** Global the guard counts in; the runner checks it after each call. */
export const VIOLATIONS_GLOBAL = '__stadtfunk_guard';
/** What the runner returns instead of output when the guard tripped. */
export const MUTATION_MARK = '\u0001stadtfunk:constant-written';
const TABLES = '__stadtfunk_k';
/** A literal shorter than this (source characters) costs less to build than to look up behind a Proxy. */
const MIN_SOURCE_CHARS = 400;

type AnyNode = Node & Record<string, unknown>;

/** The codec with its constant tables hoisted, or null when there is nothing to hoist (or it does not parse). */
export function hoistConstants(script: string): { script: string; count: number } | null {
  let ast: Node;
  try {
    ast = parse(script, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true });
  } catch {
    return null; // QuickJS will report the syntax error, or accept what acorn does not: run it as written.
  }
  const found: { start: number; end: number }[] = [];
  const visit = (node: AnyNode, inFunction: boolean): void => {
    if (inFunction && (node.type === 'ObjectExpression' || node.type === 'ArrayExpression') && node.end - node.start >= MIN_SOURCE_CHARS && isConstant(node)) {
      found.push({ start: node.start, end: node.end });
      return;
    }
    const deeper = inFunction || node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression';
    for (const key of Object.keys(node)) {
      const value = node[key];
      if (Array.isArray(value)) {
        for (const child of value) if (isNode(child)) visit(child, deeper);
      } else if (isNode(value)) visit(value, deeper);
    }
  };
  try {
    visit(ast as AnyNode, false);
  } catch {
    return null; // a tree too deep to walk: run it as written
  }
  if (found.length === 0) return null;
  let body = '';
  let at = 0;
  const tables: string[] = [];
  found.forEach((f, i) => {
    tables.push(script.slice(f.start, f.end));
    body += `${script.slice(at, f.start)} (${TABLES}[${i}]) `;
    at = f.end;
  });
  body += script.slice(at);
  return { script: `${header(tables)}\n${body}`, count: found.length };
}

function isNode(value: unknown): value is AnyNode {
  return value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string';
}

function isConstant(node: AnyNode | null): boolean {
  if (node === null) return true; // an array hole
  switch (node.type) {
    case 'Literal':
      return !('regex' in node && node.regex); // a regular expression literal makes a new, stateful object each time
    case 'TemplateLiteral':
      return (node.expressions as unknown[]).length === 0;
    case 'UnaryExpression':
      return (node.operator === '-' || node.operator === '+') && (node.argument as AnyNode).type === 'Literal' && typeof (node.argument as { value?: unknown }).value === 'number';
    case 'ArrayExpression':
      return (node.elements as (AnyNode | null)[]).every((e) => e === null || (e.type !== 'SpreadElement' && isConstant(e)));
    case 'ObjectExpression':
      return (node.properties as AnyNode[]).every((p) => {
        if (p.type !== 'Property' || p.kind !== 'init' || p.method || p.shorthand || p.computed) return false;
        const key = p.key as AnyNode & { name?: string; value?: unknown };
        const name = key.type === 'Identifier' ? key.name : key.type === 'Literal' ? String(key.value) : null;
        return name !== null && name !== '__proto__' && isConstant(p.value as AnyNode);
      });
    default:
      return false;
  }
}

/** Built before the codec's own code runs, with the builtins as QuickJS made them. */
function header(tables: string[]): string {
  return `var ${VIOLATIONS_GLOBAL} = { n: 0 };
var ${TABLES} = (function (guard) {
  function trip() { guard.n++; throw new TypeError('this codec writes to a constant table'); }
  var traps = { set: trip, defineProperty: trip, deleteProperty: trip, setPrototypeOf: trip, preventExtensions: trip };
  function protect(v) {
    if (v === null || typeof v !== 'object') return v;
    var keys = Object.keys(v);
    for (var i = 0; i < keys.length; i++) v[keys[i]] = protect(v[keys[i]]);
    return new Proxy(v, traps);
  }
  var tables = [${tables.join(',\n')}];
  for (var i = 0; i < tables.length; i++) tables[i] = protect(tables[i]);
  return tables;
})(${VIOLATIONS_GLOBAL});`;
}
