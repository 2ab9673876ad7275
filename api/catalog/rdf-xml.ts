/**
 * The catalog graph as RDF/XML (RDF 1.1 XML Syntax), the serialisation CKAN harvesters
 * (ckanext-dcat, ckanext-dcatde for GovData) read first. Each named resource is a typed
 * node element at the top (its first type as the element, further types as rdf:type);
 * blank nodes are nested in their property (§2.4 striping). Every predicate and type has
 * a prefix in PREFIXES, so each is a valid qualified element name.
 */
import { xmlAttr, xmlText } from '../xml.js';
import { curie, PREFIXES, type Resource, type Term } from './rdf-graph.js';

function qname(full: string): string {
  const short = curie(full);
  if (short === null) throw new Error(`RDF/XML: no prefix for ${full}`);
  return short;
}

function property(predicate: string, term: Term, indent: string): string {
  const name = qname(predicate);
  if ('iri' in term) return `${indent}<${name} rdf:resource="${xmlAttr(term.iri)}"/>`;
  if ('literal' in term) {
    const { value, lang, datatype } = term.literal;
    const attr = lang ? ` xml:lang="${xmlAttr(lang)}"` : datatype ? ` rdf:datatype="${xmlAttr(datatype)}"` : '';
    return `${indent}<${name}${attr}>${xmlText(value)}</${name}>`;
  }
  return `${indent}<${name}>\n${node(term.node, `${indent}  `)}\n${indent}</${name}>`;
}

function node(r: Resource, indent: string): string {
  const [first, ...more] = r.types;
  const element = first ? qname(first) : 'rdf:Description';
  const about = r.id === null ? '' : ` rdf:about="${xmlAttr(r.id)}"`;
  const lines = [
    ...more.map((t) => `${indent}  <rdf:type rdf:resource="${xmlAttr(t)}"/>`),
    ...r.props.map(([p, v]) => property(p, v, `${indent}  `)),
  ];
  return `${indent}<${element}${about}>\n${lines.join('\n')}\n${indent}</${element}>`;
}

export function toRdfXml(resources: Resource[]): string {
  const namespaces = Object.entries(PREFIXES).map(([p, ns]) => `xmlns:${p}="${ns}"`).join('\n    ');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<rdf:RDF\n    ${namespaces}>\n${resources.map((r) => node(r, '  ')).join('\n')}\n</rdf:RDF>\n`;
}
