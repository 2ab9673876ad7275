/**
 * DCAT-AP.de 3.0 validation as GovData's validator does it (GovDataOfficial/
 * DCAT-AP.de-SHACL-Validation: SEMIC's DCAT-AP 3.0.0 shapes with the German messages,
 * deactivations and additions, the controlled-vocabulary and deprecation shapes), with
 * the shapes from ../shared/standards/dcat-ap-de and rdf-validate-shacl.
 *
 * The shapes owl:import authority tables over the network. Offline, the data graph gets
 * what those imports would bring for the values a catalog uses: DCAT-AP.de's licence list
 * (licenses-open.rdf, shipped with the shapes) and, below, the few concepts of the EU
 * Publications Office tables, ADMS publisher types and DCAT-AP.de's political-geocoding
 * levels, each as a skos:Concept in its scheme (the README of ../shared/standards says
 * so). Each IRI below is a real entry of its table; a value outside this list is a
 * violation, as it would be against the full table.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import rdf from '@zazuko/env-node';
import { JsonLdParser } from 'jsonld-streaming-parser';
import N3 from 'n3';
import { RdfXmlParser } from 'rdfxml-streaming-parser';
import SHACLValidator from 'rdf-validate-shacl';
import type { Quad } from '@rdfjs/types';
import { MISSING_STANDARDS, standardsDir } from './standards.js';

const EU = 'http://publications.europa.eu/resource/authority';
/** Table → the entries this project uses (cited from the tables at op.europa.eu / dcat-ap.de). */
const OFFLINE_VOCABULARIES: Record<string, string[]> = {
  [`${EU}/data-theme`]: ['ENVI', 'HEAL', 'TRAN'].map((c) => `${EU}/data-theme/${c}`),
  [`${EU}/frequency`]: [`${EU}/frequency/UPDATE_CONT`],
  [`${EU}/access-right`]: [`${EU}/access-right/PUBLIC`],
  [`${EU}/language`]: [`${EU}/language/DEU`],
  [`${EU}/file-type`]: ['CSV', 'JSON', 'GEOJSON', 'XML'].map((c) => `${EU}/file-type/${c}`),
  [`${EU}/planned-availability`]: [`${EU}/planned-availability/AVAILABLE`],
  [`${EU}/distribution-status`]: [`${EU}/distribution-status/COMPLETED`],
  'http://purl.org/adms/publishertype/1.0': ['http://purl.org/adms/publishertype/LocalAuthority'],
  'http://dcat-ap.de/def/politicalGeocoding/Level': ['http://dcat-ap.de/def/politicalGeocoding/Level/municipality'],
};

const SHAPE_FILES = ['semic-dcat-ap-3.0.0-SHACL.ttl', 'dcat-ap-SHACL-DE.ttl', 'dcat-ap-spec-german-additions.ttl', 'dcat-ap-de-controlledvocabularies.ttl', 'dcat-ap-de-deprecated.ttl'];

function turtle(text: string, baseIRI?: string): Quad[] {
  return new N3.Parser({ format: 'text/turtle', ...(baseIRI ? { baseIRI } : {}) }).parse(text) as unknown as Quad[];
}

function collect(stream: NodeJS.ReadableStream): Promise<Quad[]> {
  const quads: Quad[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (q: Quad) => quads.push(q));
    stream.on('error', reject);
    stream.on('end', () => resolve(quads));
  });
}

/** The triples of a serialised catalog, read by a parser of its own format. */
export async function parseRdf(format: 'ttl' | 'rdf' | 'jsonld', body: string, baseIRI: string): Promise<Quad[]> {
  if (format === 'ttl') return turtle(body, baseIRI);
  const parser = format === 'rdf' ? new RdfXmlParser({ baseIRI }) : new JsonLdParser({ baseIRI });
  return collect(Readable.from([body]).pipe(parser as unknown as NodeJS.WritableStream) as unknown as NodeJS.ReadableStream);
}

let shapes: Promise<ReturnType<typeof rdf.dataset>> | null = null;
let background: Promise<Quad[]> | null = null;

function loadShapes(): Promise<ReturnType<typeof rdf.dataset>> {
  if (!standardsDir) throw new Error(MISSING_STANDARDS);
  const dir = path.join(standardsDir, 'dcat-ap-de');
  return (shapes ??= Promise.all(SHAPE_FILES.map(async (f) => turtle(await readFile(path.join(dir, f), 'utf8')))).then((all) => rdf.dataset(all.flat())));
}

/** What the owl:imports would have added: the licence list and the concepts above. */
function loadBackground(): Promise<Quad[]> {
  if (!standardsDir) throw new Error(MISSING_STANDARDS);
  const licences = path.join(standardsDir, 'dcat-ap-de', 'licenses-open.rdf');
  return (background ??= collect(createReadStream(licences).pipe(new RdfXmlParser({ baseIRI: 'http://dcat-ap.de/def/licenses' }) as unknown as NodeJS.WritableStream) as unknown as NodeJS.ReadableStream).then((quads) => {
    const concepts = Object.entries(OFFLINE_VOCABULARIES).flatMap(([scheme, members]) =>
      members.map((m) => `<${m}> a <http://www.w3.org/2004/02/skos/core#Concept> ; <http://www.w3.org/2004/02/skos/core#inScheme> <${scheme}> ; <http://www.w3.org/2004/02/skos/core#prefLabel> "${m.split('/').pop()}" .`));
    return [...quads, ...turtle(concepts.join('\n'))];
  }));
}

export interface ShaclResult {
  severity: string;
  message: string;
  focusNode: string;
  path: string;
}

/** Validation results of the catalog's triples against the DCAT-AP.de 3.0 shapes, violations and warnings apart. */
export async function validateDcatApDe(catalog: Quad[]): Promise<{ violations: ShaclResult[]; warnings: ShaclResult[] }> {
  const validator = new SHACLValidator(await loadShapes(), { factory: rdf });
  const report = await validator.validate(rdf.dataset([...catalog, ...(await loadBackground())]));
  const results: ShaclResult[] = report.results.map((r) => ({
    severity: r.severity?.value.replace('http://www.w3.org/ns/shacl#', '') ?? '',
    message: r.message.map((m) => m.value).join(' / '),
    focusNode: r.focusNode?.value ?? '',
    path: r.path?.value ?? '',
  }));
  return { violations: results.filter((r) => r.severity === 'Violation'), warnings: results.filter((r) => r.severity !== 'Violation') };
}

/** The dataset's canonical N-Quads (RDFC-1.0): equal strings mean isomorphic graphs. */
export function canonical(quads: Quad[]): string {
  return rdf.dataset(quads).toCanonical();
}
