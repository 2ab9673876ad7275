/**
 * The catalog graph as Turtle, written by N3.js's Writer (prefixes, `;` lists, nested
 * `[ … ]` blank nodes, and the escaping of Turtle string literals done by a library that
 * has been doing it for a decade).
 */
import N3 from 'n3';
import { PREFIXES, type Resource, type Term } from './rdf-graph.js';

const { namedNode, literal } = N3.DataFactory;
const RDF_TYPE = namedNode(`${PREFIXES.rdf}type`);

type Writer = InstanceType<typeof N3.Writer>;
type BlankTriple = { predicate: N3.NamedNode; object: N3.Quad_Object };

function object(writer: Writer, term: Term): N3.Quad_Object {
  if ('iri' in term) return namedNode(term.iri);
  if ('literal' in term) return literal(term.literal.value, term.literal.lang ?? (term.literal.datatype ? namedNode(term.literal.datatype) : undefined));
  return writer.blank(triples(writer, term.node));
}

function triples(writer: Writer, r: Resource): BlankTriple[] {
  return [
    ...r.types.map((t) => ({ predicate: RDF_TYPE, object: namedNode(t) as N3.Quad_Object })),
    ...r.props.map(([p, v]) => ({ predicate: namedNode(p), object: object(writer, v) })),
  ];
}

export function toTurtle(resources: Resource[]): Promise<string> {
  const writer = new N3.Writer({ format: 'text/turtle', prefixes: { ...PREFIXES } });
  for (const r of resources) {
    const subject = namedNode(r.id!);
    for (const t of triples(writer, r)) writer.addQuad(subject, t.predicate, t.object);
  }
  return new Promise((resolve, reject) => writer.end((error: Error | null, result: string) => (error ? reject(error) : resolve(result))));
}
