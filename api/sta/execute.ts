/**
 * One SensorThings GET: resolve the resource path step by step (each step one entity,
 * 404 when it does not exist or is hidden), then read the collection page, entity,
 * property or $ref it ends in, expand it level by level, and write the JSON.
 */
import type pg from 'pg';
import { ENTITY_TYPES, StaQueryError, StaReader, checkExpressions, emptyOptions, expressionsOf, keysetOrder, loadPositions, type EntityType, type ExpandItem, type QueryOptions, type ReadSettings, type Resolved, type Row } from '../../storage/index.js';
import type { ResolutionCache } from './resolution-cache.js';
import type { ResourcePath } from './resource-path.js';
import { EXPANDED, dataArrayJson, entityJson, entityText, nextLink, observationText, pageBytes, propertiesOf, selfLink, skipTokenText, type ExpandedRow, type Links } from './serialize.js';

/** Default and largest page ($top), as FROST-Server's defaults. */
export const DEFAULT_TOP = 100;
export const MAX_TOP = 10_000;

export type StaResult =
  | { kind: 'json'; body: unknown }
  /** JSON already written as UTF-8. */
  | { kind: 'bytes'; body: Buffer }
  | { kind: 'raw'; body: string }
  | { kind: 'empty' };

function badRequest(message: string, option: string, pos?: number): never {
  throw new StaQueryError(message, { option, ...(pos === undefined ? {} : { position: pos }), status: 400 });
}

/** $select names must be properties or navigations of the type. */
function checkSelect(type: EntityType, options: QueryOptions, option: string): void {
  for (const name of options.select ?? []) {
    if (name === 'id' || name === '@iot.selfLink' || type.properties[name] || type.relations[name]) continue;
    badRequest(`${option}: ${type.name} has no property ${name} (it has id, ${[...Object.keys(type.properties).filter((p) => p !== 'id'), ...Object.keys(type.relations)].join(', ')})`, option);
  }
}

/** Expand items with paths (Datastreams/Sensor) as nested single-step items, merged by name. */
function normalizeExpand(type: EntityType, items: ExpandItem[], option: string): ExpandItem[] {
  const merged = new Map<string, ExpandItem>();
  for (const item of items) {
    const [head, ...rest] = item.path;
    const rel = type.relations[head!];
    if (!rel) badRequest(`${option}: ${type.name} has no navigation ${head} (it has ${Object.keys(type.relations).join(', ')})`, option, item.pos);
    let target = merged.get(head!);
    if (!target) merged.set(head!, (target = { path: [head!], options: rest.length === 0 ? item.options : emptyOptions(), pos: item.pos }));
    else if (rest.length === 0) target.options = { ...item.options, expand: [...item.options.expand, ...target.options.expand] };
    if (rest.length > 0) target.options.expand = [...target.options.expand, { path: rest, options: item.options, pos: item.pos }];
  }
  for (const item of merged.values()) {
    const target = ENTITY_TYPES[type.relations[item.path[0]!]!.target];
    checkSelect(target, item.options, option);
    if (item.options.dataArray) badRequest(`${option}: $resultFormat is not an expand option`, option, item.pos);
    item.options.expand = normalizeExpand(target, item.options.expand, option);
  }
  return [...merged.values()];
}

const topOf = (options: QueryOptions): number => Math.min(options.top ?? DEFAULT_TOP, MAX_TOP);

async function expandRows(reader: StaReader, type: EntityType, rows: ExpandedRow[], items: ExpandItem[], positions: Awaited<ReturnType<typeof loadPositions>>): Promise<void> {
  for (const item of items) {
    const name = item.path[0]!;
    const rel = type.relations[name]!;
    const target = ENTITY_TYPES[rel.target];
    const top = rel.many ? topOf(item.options) : 1;
    const { rows: found, counts } = await reader.expand(type, rows, name, item.options, top, positions);
    const children: ExpandedRow[] = [];
    rows.forEach((row, index) => {
      const key = type.name === 'Observation' ? index : row.id;
      const list = found.get(key) ?? [];
      const page = list.slice(0, top) as ExpandedRow[];
      children.push(...page);
      (row[EXPANDED] ??= new Map()).set(name, { rows: page, more: rel.many && list.length > top, count: counts?.get(key) ?? null, options: item.options, top });
    });
    if (item.options.expand.length > 0) await expandRows(reader, target, children, item.options.expand, positions);
  }
}

/** `resolutions`: Datastreams resolved for earlier pages of a chain of next links (resolution-cache.ts). */
export async function executeGet(db: pg.ClientBase, settings: ReadSettings, path: ResourcePath, options: QueryOptions, links: Links, requestPath: string, resolutions?: ResolutionCache): Promise<StaResult> {
  const reader = new StaReader(db, settings);
  // Resolve every step but a final collection to one entity.
  let parent: { resolved: Resolved; relation: string } | null = null;
  let resolved: Resolved | null = null;
  const last = path.steps[path.steps.length - 1]!;
  // Datastreams(id)/Observations pages by next links: the Datastream's resolution is kept for the chain.
  const first = path.steps[0]!;
  const chainKey = resolutions && path.steps.length === 2 && first.type.name === 'Datastream' && first.key !== null && last.collection && last.type.name === 'Observation' && !path.ref ? `${settings.all ? 'all' : 'open'}|${first.key}` : null;
  for (const step of path.steps) {
    if (step.collection) break;
    const cached = step === first && chainKey && options.skipToken ? resolutions!.get(chainKey) : null;
    const row: Row | null = cached ?? await reader.entity(step.type, step.key, step.relation && resolved ? { resolved, relation: step.relation } : null);
    if (row && !cached && step === first && chainKey) resolutions!.set(chainKey, row);
    if (!row) throw new StaQueryError(`${step.relation ?? step.type.plural}${step.key !== null ? `(${typeof step.key === 'string' ? `'${step.key}'` : step.key})` : ''} not found`, { status: 404 });
    resolved = { type: step.type, row };
  }
  if (last.collection) parent = resolved && last.relation ? { resolved, relation: last.relation } : null;
  const type = last.type;

  if (path.property) {
    if (options.expand.length > 0 || options.select) badRequest('$select and $expand do not apply to a single property', '$select');
    const row = resolved!.row;
    const name = path.property.name;
    const value = name === 'id' ? (type.name === 'Observation' ? `${row.datastream_id}-${row.t0}` : Number(row.id)) : propertiesOf(type, row, links)[name];
    // A property without value answers 204 No Content (FROST-Server.Tests FilterTests.testNullEntityProperty).
    if (value === null || value === undefined) return { kind: 'empty' };
    if (!path.property.raw) return { kind: 'json', body: { [name === 'id' ? '@iot.id' : name]: value } };
    return { kind: 'raw', body: typeof value === 'object' ? JSON.stringify(value) : String(value) };
  }

  checkSelect(type, options, '$select');
  const expand = normalizeExpand(type, options.expand, '$expand');
  if (options.dataArray && (type.name !== 'Observation' || !last.collection)) badRequest('$resultFormat=dataArray: only for collections of Observations', '$resultFormat');
  if (options.dataArray && expand.length > 0) badRequest('$resultFormat=dataArray cannot be combined with $expand', '$resultFormat');
  checkExpressions(type, { ...options, expand }, null);
  const positions = await loadPositions(db, expressionsOf({ ...options, expand }));

  if (!last.collection) {
    const row = resolved!.row as ExpandedRow;
    if (path.ref) return { kind: 'json', body: { '@iot.selfLink': selfLink(links, type, row) } };
    await expandRows(reader, type, [row], expand, positions);
    return { kind: 'json', body: entityJson(type, row, { ...options, expand }, links, true) };
  }

  const top = topOf(options);
  const page = await reader.page({ type, parent }, options, top, positions);
  const rows = page.rows as ExpandedRow[];
  const body: Record<string, unknown> = {};
  if (page.count !== null) body['@iot.count'] = page.count;
  if (page.more) {
    // Observations in their default or time order page by keyset: the next page starts after this one's last
    // row by an index range, where $skip would read every earlier page again (issue 21).
    const at = keysetOrder(type, options) ? { skipToken: skipTokenText(rows[rows.length - 1]!) } : { skip: options.skip + top };
    body['@iot.nextLink'] = nextLink(`${links.base}${requestPath}`, options, top, at);
  }
  if (path.ref) {
    body.value = rows.map((r) => ({ '@iot.selfLink': selfLink(links, type, r) }));
    return { kind: 'json', body };
  }
  if (options.dataArray) {
    body.value = dataArrayJson(rows, options, links, type);
    return { kind: 'json', body };
  }
  await expandRows(reader, type, rows, expand, positions);
  // The page is written as bytes: the head, then each entity's own JSON text.
  const all = { ...options, expand };
  // Observations as they are (no $select, no $expand) skip the entity objects: observationText.
  const write = type.name === 'Observation' && !options.select && expand.length === 0 ? (r: ExpandedRow) => observationText(r, links) : (r: ExpandedRow) => entityText(type, r, all, links, true);
  return { kind: 'bytes', body: pageBytes(JSON.stringify(body), rows, write) };
}

export type { Row };
