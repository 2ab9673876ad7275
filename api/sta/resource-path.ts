/**
 * Resource paths of OGC 18-088 §9.2: an entity set, entities by key, navigation to
 * related entities, a property (and its raw $value), or $ref (the links only):
 *
 *   Things  Things(5)  Things(5)/Datastreams  Datastreams(7)/Thing/Locations
 *   Observations('8123-1700000000000000')/FeatureOfInterest/feature  Things(5)/name/$value
 *   Things(5)/Datastreams/$ref
 *
 * Checked against the entity model here; what passes is a list of typed steps.
 */
import { ENTITY_TYPES, entityBySet, type EntityType } from '../../storage/index.js';
import { StaQueryError } from '../../storage/index.js';

export interface PathStep {
  /** The entity type this step selects. */
  type: EntityType;
  /** Navigation name from the previous step (null for the entity set that starts the path). */
  relation: string | null;
  /** Key in parentheses; null when none. */
  key: number | string | null;
  /** The step selects a collection (entity set or to-many navigation without a key). */
  collection: boolean;
}

export interface ResourcePath {
  steps: PathStep[];
  /** A property of the last entity, and whether its raw $value is asked for. */
  property: { name: string; raw: boolean } | null;
  /** $ref: the self links only. */
  ref: boolean;
}

function notFound(message: string): never {
  throw new StaQueryError(message, { status: 404 });
}

function parseKey(text: string, segment: string): number | string {
  // A number too large to be one of ours finds nothing (404), as any other unknown id.
  if (/^\d{1,30}$/.test(text)) return Number(text);
  const quoted = /^'((?:[^']|'')*)'$/.exec(text);
  if (quoted) return quoted[1]!.replace(/''/g, "'");
  throw new StaQueryError(`${segment}: the key must be a number or a 'quoted' string`, { status: 400, token: text });
}

/** `segments`: the path after /sta/v1.1/, split at '/' and percent-decoded. */
export function parseResourcePath(segments: string[]): ResourcePath {
  const steps: PathStep[] = [];
  let property: ResourcePath['property'] = null;
  let ref = false;
  for (const [index, segment] of segments.entries()) {
    if (property) {
      if (segment === '$value' && !property.raw && index === segments.length - 1) {
        property.raw = true;
        continue;
      }
      notFound(`${segment}: nothing follows a property but $value`);
    }
    if (segment === '$ref') {
      if (index !== segments.length - 1 || steps.length === 0) notFound('$ref ends a path to entities');
      ref = true;
      continue;
    }
    const m = /^([A-Za-z@.]+)(?:\((.*)\))?$/.exec(segment);
    if (!m) notFound(`${segment} is not an entity set, navigation property or property`);
    const [, name, keyText] = m;
    const key = keyText === undefined ? null : parseKey(keyText, segment);
    const last = steps[steps.length - 1];
    if (!last) {
      const type = entityBySet(name!);
      if (!type) notFound(`${name} is not an entity set (there are ${Object.values(ENTITY_TYPES).map((t) => t.plural).join(', ')})`);
      steps.push({ type, relation: null, key, collection: key === null });
      continue;
    }
    if (last.collection) notFound(`${segment}: a collection is followed only by a key, as in ${last.type.plural}(1)`);
    const relation = last.type.relations[name!];
    if (relation) {
      if (key !== null && !relation.many) notFound(`${name} is a single entity and takes no key`);
      steps.push({ type: ENTITY_TYPES[relation.target], relation: name!, key, collection: relation.many && key === null });
      continue;
    }
    if (key === null && (last.type.properties[name!] || name === 'id' || name === '@iot.id')) {
      property = { name: name === '@iot.id' ? 'id' : name!, raw: false };
      continue;
    }
    notFound(`${last.type.name} has no property or navigation ${name}`);
  }
  if (steps.length === 0) notFound('empty path');
  return { steps, property, ref };
}
