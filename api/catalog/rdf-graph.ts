/**
 * A small RDF graph as the catalog is written: named resources at the top, blank nodes
 * nested where they are used (a contact point, a period of time). The three serialisers
 * (turtle.ts, rdf-xml.ts, json-ld.ts) write the same graph, so a name or a time reads the
 * same in each. Predicates and types are full IRIs; `PREFIXES` gives their short forms.
 */
import { xmlSafe } from '../xml.js';

export const PREFIXES = {
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  dcat: 'http://www.w3.org/ns/dcat#',
  dct: 'http://purl.org/dc/terms/',
  dcatde: 'http://dcat-ap.de/def/dcatde/',
  dcatap: 'http://data.europa.eu/r5r/',
  adms: 'http://www.w3.org/ns/adms#',
  foaf: 'http://xmlns.com/foaf/0.1/',
  vcard: 'http://www.w3.org/2006/vcard/ns#',
  locn: 'http://www.w3.org/ns/locn#',
  geo: 'http://www.opengis.net/ont/geosparql#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
} as const;

export type Prefix = keyof typeof PREFIXES;

/** `dcat:Dataset` → the full IRI. */
export const iri = (curie: `${Prefix}:${string}`): string => {
  const colon = curie.indexOf(':');
  return PREFIXES[curie.slice(0, colon) as Prefix] + curie.slice(colon + 1);
};

export interface Literal {
  value: string;
  /** BCP 47 language tag, e.g. `de`. */
  lang?: string;
  /** Datatype IRI; absent means xsd:string. */
  datatype?: string;
}

/** A resource: named (`id` an IRI) or blank (`id` null, written where it is used). */
export interface Resource {
  id: string | null;
  types: string[];
  props: [predicate: string, value: Term][];
}

export type Term = { iri: string } | { literal: Literal } | { node: Resource };

export const ref = (id: string): Term => ({ iri: safeIri(id) });
/**
 * A string literal. Characters XML cannot carry (controls, lone surrogates) become U+FFFD
 * here, once, so the RDF/XML, Turtle and JSON-LD forms say the same.
 */
export const text = (value: string, lang?: string): Term => ({ literal: lang ? { value: xmlSafe(value), lang } : { value: xmlSafe(value) } });
export const typed = (value: string, datatype: `${Prefix}:${string}`): Term => ({ literal: { value: xmlSafe(value), datatype: iri(datatype) } });
/** xsd:dateTime with its offset (UTC, `Z`). */
export const dateTime = (time: Date): Term => typed(time.toISOString(), 'xsd:dateTime');
export const blank = (types: string[], props: Resource['props']): Term => ({ node: { id: null, types, props } });

/** The short form of an IRI when one of PREFIXES covers it and the rest is a plain local name. */
export function curie(full: string): string | null {
  for (const [prefix, ns] of Object.entries(PREFIXES)) {
    if (full.startsWith(ns) && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(full.slice(ns.length))) return `${prefix}:${full.slice(ns.length)}`;
  }
  return null;
}

/**
 * An IRI with the characters Turtle's IRIREF and N-Triples refuse percent-encoded
 * (space, <>"{}|^`\ and controls): a configured URL cannot break the document.
 */
export function safeIri(value: string): string {
  return value.replace(/[\u0000-\u0020<>"{}|^`\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}
