/**
 * The catalog graph as JSON-LD 1.1 in compacted form: one @context with the prefixes,
 * a @graph of the named resources, blank nodes nested as objects without @id. Every
 * value is explicit (@id for IRIs, @value with @language or @type for literals), so no
 * term definition is needed to read it, and JSON.stringify does all the escaping.
 */
import { curie, PREFIXES, type Resource, type Term } from './rdf-graph.js';

type JsonValue = Record<string, unknown>;

const short = (full: string): string => curie(full) ?? full;

function value(term: Term): JsonValue {
  if ('iri' in term) return { '@id': term.iri };
  if ('literal' in term) {
    const { value: v, lang, datatype } = term.literal;
    return lang ? { '@value': v, '@language': lang } : datatype ? { '@value': v, '@type': short(datatype) } : { '@value': v };
  }
  return object(term.node);
}

function object(r: Resource): JsonValue {
  const out: JsonValue = {};
  if (r.id !== null) out['@id'] = r.id;
  if (r.types.length > 0) out['@type'] = r.types.map(short);
  for (const [p, v] of r.props) {
    const key = short(p);
    const existing = out[key];
    const next = value(v);
    out[key] = existing === undefined ? next : Array.isArray(existing) ? [...existing, next] : [existing, next];
  }
  return out;
}

export function toJsonLd(resources: Resource[]): string {
  const context = Object.fromEntries(Object.entries(PREFIXES).filter(([p]) => p !== 'rdf'));
  return `${JSON.stringify({ '@context': context, '@graph': resources.map(object) }, null, 1)}\n`;
}
