/**
 * SensorThings query options (OGC 18-088 §9.3) against a real database: $select,
 * $expand (nested, with options), $top, $skip, $count, $orderby, $filter and
 * $resultFormat=dataArray. Ported from FROST-Server.Tests c03filtering/Capability3Tests
 * (with its response checks from util/EntityUtils.checkResponse/checkEntity), the OGC
 * suite's filteringExtension/Capability3Tests (opengeospatial/ets-sta10), and
 * c06dataarrays/DataArrayTests (the GET half; creating is not offered here).
 * Counts are the fixture's own (sta-fixture.ts COUNTS), not the server's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTS, startStaFixture, T0, STEP_MS, type StaFixture } from './sta-fixture.js';

const MODEL: Record<string, { plural: string; properties: { name: string; sortable: boolean }[]; relations: string[] }> = {
  Thing: { plural: 'Things', properties: [{ name: 'name', sortable: true }, { name: 'description', sortable: true }, { name: 'properties', sortable: false }], relations: ['Datastreams', 'HistoricalLocations', 'Locations'] },
  Location: { plural: 'Locations', properties: [{ name: 'name', sortable: true }, { name: 'description', sortable: true }, { name: 'encodingType', sortable: true }, { name: 'location', sortable: false }], relations: ['HistoricalLocations', 'Things'] },
  HistoricalLocation: { plural: 'HistoricalLocations', properties: [{ name: 'time', sortable: true }], relations: ['Thing', 'Locations'] },
  Datastream: { plural: 'Datastreams', properties: [{ name: 'name', sortable: true }, { name: 'description', sortable: true }, { name: 'unitOfMeasurement', sortable: false }, { name: 'observationType', sortable: true }, { name: 'observedArea', sortable: false }, { name: 'phenomenonTime', sortable: true }, { name: 'resultTime', sortable: true }], relations: ['Thing', 'Sensor', 'ObservedProperty', 'Observations'] },
  Sensor: { plural: 'Sensors', properties: [{ name: 'name', sortable: true }, { name: 'description', sortable: true }, { name: 'encodingType', sortable: true }, { name: 'metadata', sortable: true }], relations: ['Datastreams'] },
  ObservedProperty: { plural: 'ObservedProperties', properties: [{ name: 'name', sortable: true }, { name: 'definition', sortable: true }, { name: 'description', sortable: true }], relations: ['Datastreams'] },
  Observation: { plural: 'Observations', properties: [{ name: 'phenomenonTime', sortable: true }, { name: 'result', sortable: true }, { name: 'resultTime', sortable: true }, { name: 'resultQuality', sortable: true }, { name: 'validTime', sortable: true }, { name: 'parameters', sortable: false }], relations: ['Datastream', 'FeatureOfInterest'] },
  FeatureOfInterest: { plural: 'FeaturesOfInterest', properties: [{ name: 'name', sortable: true }, { name: 'description', sortable: true }, { name: 'encodingType', sortable: true }, { name: 'feature', sortable: false }], relations: ['Observations'] },
};
const TYPES = Object.keys(MODEL);
const OPTIONAL = new Set(['resultQuality', 'validTime', 'parameters', 'observedArea', 'phenomenonTime', 'resultTime', 'properties']);
const typeOfRelation = (relation: string): string => TYPES.find((t) => t === relation || MODEL[t]!.plural === relation)!;
const isPlural = (relation: string): boolean => TYPES.some((t) => MODEL[t]!.plural === relation);
const key = (id: unknown): string => (typeof id === 'number' ? String(id) : `'${String(id)}'`);

interface Query { select?: string[]; expand?: Expand[]; top?: number; skip?: number; count?: boolean; orderby?: string; filter?: string }
interface Expand { relation: string; query: Query }

/** The query as URL text, nested expand options in parentheses separated by ';' (OGC 18-088 §9.3.2.1). */
function queryText(q: Query, nested = false): string {
  const parts: string[] = [];
  if (q.select) parts.push(`$select=${q.select.join(',')}`);
  if (q.expand?.length) parts.push(`$expand=${q.expand.map((e) => `${e.relation}${hasOptions(e.query) ? `(${queryText(e.query, true)})` : ''}`).join(',')}`);
  if (q.top !== undefined) parts.push(`$top=${q.top}`);
  if (q.skip !== undefined) parts.push(`$skip=${q.skip}`);
  if (q.count !== undefined) parts.push(`$count=${q.count}`);
  if (q.orderby) parts.push(`$orderby=${q.orderby}`);
  if (q.filter) parts.push(`$filter=${q.filter}`);
  return parts.map((p) => (nested ? p : p.replace(/^(\$\w+=)(.*)$/, (_m, name, value) => name + encodeURIComponent(value)))).join(nested ? ';' : '&');
}
const hasOptions = (q: Query): boolean => Object.values(q).some((v) => v !== undefined);

let f: StaFixture;
beforeAll(async () => {
  f = await startStaFixture();
});
afterAll(async () => {
  await f?.close();
});

/** EntityUtils.checkEntity: selected properties, navigation links (top level only), expansions with their count/top/nextLink. */
function checkEntity(type: string, entity: Record<string, unknown>, q: Query, topLevel: boolean, counts: (relation: string, entity: Record<string, unknown>) => number | null): void {
  const model = MODEL[type]!;
  const select = q.select ?? ['id', ...model.properties.map((p) => p.name), ...(topLevel ? model.relations : [])];
  expect('@iot.id' in entity, `${type}: @iot.id ${select.includes('id') ? 'expected' : 'not expected'}`).toBe(select.includes('id'));
  for (const { name } of model.properties) {
    if (select.includes(name)) expect(name in entity || OPTIONAL.has(name), `${type} has ${name}`).toBe(true);
    else expect(name in entity, `${type} has no ${name}`).toBe(false);
  }
  for (const relation of model.relations) {
    expect(`${relation}@iot.navigationLink` in entity, `${type}: ${relation}@iot.navigationLink`).toBe(select.includes(relation));
  }
  const expanded = new Set((q.expand ?? []).map((e) => e.relation));
  for (const relation of model.relations) if (!expanded.has(relation)) expect(relation in entity, `${type} must not expand ${relation}`).toBe(false);
  for (const e of q.expand ?? []) {
    expect(e.relation in entity, `${type} expands ${e.relation}`).toBe(true);
    const target = typeOfRelation(e.relation);
    if (!isPlural(e.relation)) {
      if (entity[e.relation] !== null) checkEntity(target, entity[e.relation] as Record<string, unknown>, e.query, false, counts);
      continue;
    }
    const items = entity[e.relation] as Record<string, unknown>[];
    for (const item of items) checkEntity(target, item, e.query, false, counts);
    if (e.query.count === true) expect(`${e.relation}@iot.count` in entity).toBe(true);
    if (e.query.count === false) expect(`${e.relation}@iot.count` in entity).toBe(false);
    const expected = counts(e.relation, entity);
    if (expected !== null && `${e.relation}@iot.count` in entity) expect(entity[`${e.relation}@iot.count`], `${type}/${e.relation} count`).toBe(expected);
    if (expected !== null && e.query.top !== undefined) {
      const skip = e.query.skip ?? 0;
      expect(items.length, `${type}/${e.relation} top ${e.query.top} skip ${skip} of ${expected}`).toBe(Math.max(0, Math.min(expected - skip, e.query.top)));
      expect(`${e.relation}@iot.nextLink` in entity, `${type}/${e.relation} next link`).toBe(items.length + skip < expected);
    }
  }
}

/** EntityUtils.checkResponse for a collection: count, top/skip and next link, then each entity. */
async function checkCollection(path: string, type: string, q: Query, expectedCount: number | null, counts: (relation: string, entity: Record<string, unknown>) => number | null = () => null): Promise<Record<string, unknown>[]> {
  const text = queryText(q);
  const res = await f.get(`${path}${text ? `?${text}` : ''}`);
  expect(res.status, `${path}?${text}: ${res.text.slice(0, 300)}`).toBe(200);
  if (q.count === true) expect(res.body['@iot.count'], `${path} count`).toBe(expectedCount ?? res.body['@iot.count']);
  if (q.count === false) expect('@iot.count' in res.body).toBe(false);
  const items = res.body.value as Record<string, unknown>[];
  if (q.top !== undefined && expectedCount !== null) {
    const skip = q.skip ?? 0;
    expect(items.length, `${path}?${text}`).toBe(Math.max(0, Math.min(expectedCount - skip, q.top)));
    expect('@iot.nextLink' in res.body, `${path}?${text} next link`).toBe(items.length + skip < expectedCount);
  }
  for (const item of items) checkEntity(type, item, q, true, counts);
  return items;
}

/** Known counts of related collections, from the fixture (null: not known here). */
function relationCount(relation: string, entity: Record<string, unknown>): number | null {
  const name = entity.name as string | undefined;
  if (relation === 'Datastreams' && name !== undefined) {
    const byThing: Record<string, number> = { 'Lamp at the Rhine': 6, 'lamp-2': 3, 'site-1': 6, 'gauge-1': 0, 'geo-0': 3, 'geo-1': 3, 'geo-2': 3, 'geo-3': 3 };
    if (name in byThing && entity.properties && (entity.properties as { kind?: string }).kind) return byThing[name]!;
  }
  return null;
}

describe('$select (Capability3Tests.readEntitiesWithSelectQO)', () => {
  for (const type of TYPES) {
    it(`${MODEL[type]!.plural}: one property, growing lists of properties, and navigation links alone`, async () => {
      const plural = MODEL[type]!.plural;
      for (const { name } of MODEL[type]!.properties) await checkCollection(plural, type, { select: [name] }, COUNTS[plural]!);
      const growing: string[] = [];
      for (const { name } of MODEL[type]!.properties) {
        growing.push(name);
        await checkCollection(plural, type, { select: [...growing] }, COUNTS[plural]!);
      }
      for (const relation of MODEL[type]!.relations) await checkCollection(plural, type, { select: [relation] }, COUNTS[plural]!);
      await checkCollection(plural, type, { select: ['id'] }, COUNTS[plural]!);
    });
  }
});

describe('$expand (Capability3Tests.readEntitiesWithExpand, …Multilevel, …Nested)', () => {
  for (const type of TYPES) {
    it(`${MODEL[type]!.plural}: each relation, all relations, two levels, and nested options`, async () => {
      const plural = MODEL[type]!.plural;
      const relations = MODEL[type]!.relations;
      for (const relation of relations) await checkCollection(plural, type, { expand: [{ relation, query: {} }], top: 3 }, COUNTS[plural]!, relationCount);
      await checkCollection(plural, type, { expand: relations.map((relation) => ({ relation, query: {} })), top: 3 }, COUNTS[plural]!, relationCount);
      for (const relation of relations) {
        for (const second of MODEL[typeOfRelation(relation)]!.relations) {
          await checkCollection(plural, type, { top: 2, expand: [{ relation, query: { top: 2, expand: [{ relation: second, query: { top: 2 } }] } }] }, COUNTS[plural]!, relationCount);
        }
      }
      // Nested options at every level: half of the properties, $count, $top 2, $skip 0/1.
      const half = (t: string, even: boolean): string[] => ['id', ...[...MODEL[t]!.properties.map((p) => p.name), ...MODEL[t]!.relations].filter((_, i) => (i % 2 === 0) === even)];
      let even = true;
      for (const relation of relations) {
        const child = typeOfRelation(relation);
        for (const second of MODEL[child]!.relations) {
          const grandchild = typeOfRelation(second);
          const q: Query = {
            select: [...half(type, even), relation], count: even, top: 2, skip: 0,
            expand: [{ relation, query: { select: [...half(child, !even), second], count: !even, top: 2, skip: 1, expand: [{ relation: second, query: { select: half(grandchild, even), count: even, top: 2, skip: 0 } }] } }],
          };
          // A navigation named in $select shows its link too; the check expects exactly the selection.
          await checkCollection(plural, type, q, COUNTS[plural]!, relationCount);
          even = !even;
        }
      }
    });
  }

  it('expands a Datastream\'s latest Observation for every Thing (the latest-values query)', async () => {
    const res = await f.get('Things?$expand=Datastreams($expand=Observations($top=1;$orderby=phenomenonTime desc))&$count=true');
    expect(res.status).toBe(200);
    expect(res.body['@iot.count']).toBe(COUNTS.Things);
    const lamp = res.body.value.find((t: { name: string }) => t.name === 'Lamp at the Rhine');
    const raw = lamp.Datastreams.find((d: { properties: { level: string; metric: string } }) => d.properties.level === 'raw' && d.properties.metric === 'pm2_5');
    expect(raw.Observations).toHaveLength(1);
    expect(raw.Observations[0]).toMatchObject({ phenomenonTime: new Date(T0 + 287 * STEP_MS).toISOString(), result: 287 % 50 });
    expect(raw['Observations@iot.nextLink']).toContain('/Observations?');
  });
});

describe('$top, $skip, $count (Capability3Tests.readEntitiesWithTopQO, …SkipQO, …CountQO)', () => {
  for (const type of TYPES) {
    it(`${MODEL[type]!.plural}: pages of 1–13, skips 1–12 and counts`, async () => {
      const plural = MODEL[type]!.plural;
      for (const top of [1, 2, 3, 4, 5, 12, 13]) await checkCollection(plural, type, { top, count: true }, COUNTS[plural]!);
      for (const skip of [1, 2, 3, 4, 12]) await checkCollection(plural, type, { top: 12, skip, count: true }, COUNTS[plural]!);
      await checkCollection(plural, type, { count: false }, COUNTS[plural]!);
    });
  }

  it('follows every next link of a collection to the end with the same @iot.count on each page (FROST-Server#1554)', async () => {
    let next: string | undefined = 'Observations?$top=97&$count=true&$filter=result gt 3';
    const ids = new Set<string>();
    let first: number | null = null;
    while (next) {
      const res: { status: number; body: any } = await f.get(next);
      expect(res.status).toBe(200);
      first ??= res.body['@iot.count'];
      expect(res.body['@iot.count']).toBe(first);
      for (const o of res.body.value) ids.add(o['@iot.id']);
      next = res.body['@iot.nextLink'];
    }
    expect(ids.size).toBe(first);
  });
});

/** compareForOrder of Capability3Tests: times by start, then end; others naturally. */
function compare(a: unknown, b: unknown, property: string): number {
  if (a === null || a === undefined || b === null || b === undefined) return 0;
  if (property.toLowerCase().endsWith('time')) {
    const [a0, a1] = String(a).split('/');
    const [b0, b1] = String(b).split('/');
    return Date.parse(a0!) - Date.parse(b0!) || Date.parse(a1 ?? a0!) - Date.parse(b1 ?? b0!);
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

describe('$orderby (Capability3Tests.readEntitiesWithOrderbyQO)', () => {
  for (const type of TYPES) {
    it(`${MODEL[type]!.plural}: each sortable property asc and desc, and growing lists`, async () => {
      const plural = MODEL[type]!.plural;
      const sortable = MODEL[type]!.properties.filter((p) => p.sortable).map((p) => p.name);
      const ordered = async (orderby: string, props: string[], dirs: ('asc' | 'desc')[]): Promise<void> => {
        const res = await f.get(`${plural}?$top=200&$orderby=${encodeURIComponent(orderby)}`);
        expect(res.status, `${plural} $orderby=${orderby}: ${res.text.slice(0, 200)}`).toBe(200);
        const items = res.body.value as Record<string, unknown>[];
        for (let i = 1; i < items.length; i++) {
          for (const [j, p] of props.entries()) {
            const c = compare(items[i - 1]![p], items[i]![p], p);
            if (dirs[j] === 'asc') expect(c, `${plural} ${orderby}: ${items[i - 1]![p]} then ${items[i]![p]}`).toBeLessThanOrEqual(0);
            else expect(c, `${plural} ${orderby}: ${items[i - 1]![p]} then ${items[i]![p]}`).toBeGreaterThanOrEqual(0);
            if (c !== 0) break;
          }
        }
      };
      for (const p of sortable) {
        await ordered(p, [p], ['asc']);
        await ordered(`${p} asc`, [p], ['asc']);
        await ordered(`${p} desc`, [p], ['desc']);
      }
      for (let n = 1; n <= sortable.length; n++) {
        const props = sortable.slice(0, n);
        await ordered(props.join(','), props, props.map(() => 'asc'));
        await ordered(props.map((p) => `${p} desc`).join(','), props, props.map(() => 'desc'));
      }
    });
  }
});

describe('$filter on properties (Capability3Tests.readEntitiesWithFilterQO)', () => {
  const ops: [string, (c: number) => boolean][] = [['lt', (c) => c < 0], ['le', (c) => c <= 0], ['eq', (c) => c === 0], ['ge', (c) => c >= 0], ['gt', (c) => c > 0], ['ne', (c) => c !== 0]];
  for (const type of TYPES) {
    it(`${MODEL[type]!.plural}: every comparison with a value one of them has holds for each entity returned`, async () => {
      const plural = MODEL[type]!.plural;
      const sample = (await f.get(`${plural}?$top=3`)).body.value as Record<string, unknown>[];
      for (const { name, sortable } of MODEL[type]!.properties) {
        if (!sortable || name === 'resultQuality' || name === 'validTime') continue;
        const value = sample[sample.length - 1]![name];
        // Intervals compare by their own rules (DateTimeTests, in sta-filter.test.ts).
        if (value === null || value === undefined || (typeof value === 'string' && /\dZ\/\d/.test(value))) continue;
        const literal = typeof value === 'number' ? String(value) : name.toLowerCase().endsWith('time') ? String(value).split('/')[0] : `'${String(value).replace(/'/g, "''")}'`;
        for (const [op, holds] of ops) {
          const res = await f.get(`${plural}?$top=500&$filter=${encodeURIComponent(`${name} ${op} ${literal}`)}`);
          expect(res.status, `${plural} ${name} ${op}: ${res.text.slice(0, 200)}`).toBe(200);
          for (const e of res.body.value) {
            const v = name.toLowerCase().endsWith('time') ? String(e[name]).split('/')[0] : e[name];
            const c = compare(v, name.toLowerCase().endsWith('time') ? literal : value, name);
            expect(holds(c), `${plural}: ${name}=${e[name]} ${op} ${literal}`).toBe(true);
          }
        }
      }
    });
  }
});

describe('operator semantics (Capability3Tests.checkQueriesPriorityOrdering, checkAndOrPrecendece, checkArithmeticPrecendece)', () => {
  let observations: string;
  beforeAll(async () => {
    const ds = (await f.get(`Datastreams?$filter=${encodeURIComponent("properties/metric eq 'pm2_5' and properties/level eq 'raw' and Thing/name eq 'Lamp at the Rhine'")}`)).body.value;
    expect(ds).toHaveLength(1);
    observations = `Datastreams(${ds[0]['@iot.id']})/Observations`;
  });
  // The lamp's pm2_5 is i % 50 at step i, for 288 steps.
  const values = Array.from({ length: 288 }, (_, i) => i % 50);
  async function results(filter: string): Promise<number[]> {
    const res = await f.get(`${observations}?$top=1000&$filter=${encodeURIComponent(filter)}`);
    expect(res.status, `${filter}: ${res.text.slice(0, 200)}`).toBe(200);
    return res.body.value.map((o: { result: number }) => o.result);
  }

  it('applies $filter, then $orderby, $skip and $top, and counts before paging', async () => {
    const res = await f.get(`${observations}?$count=true&$top=1&$skip=2&$orderby=${encodeURIComponent('phenomenonTime asc')}&$filter=${encodeURIComponent("result gt '3'")}`);
    expect(res.status).toBe(200);
    expect(res.body['@iot.count']).toBe(values.filter((v) => v > 3).length);
    expect(res.body.value).toHaveLength(1);
    expect(res.body.value[0].result).toBe(6);
  });

  it('binds and tighter than or, and not tighter than and', async () => {
    const ones = values.filter((v) => v === 1).length;
    expect(await results('result eq 2 and result eq 1 or result eq 1')).toEqual(Array(ones).fill(1));
    expect(await results('(result eq 2 and result eq 1) or result eq 1')).toEqual(Array(ones).fill(1));
    expect(await results('result eq 2 and (result eq 1 or result eq 1)')).toEqual([]);
    expect(await results('not result lt 1 and not result gt 1')).toEqual(Array(ones).fill(1));
  });

  it('binds mul, div and mod tighter than add and sub, left to right', async () => {
    const ones = values.filter((v) => v === 1).length;
    expect(await results('1 add result mul 2 sub -1 eq 4')).toEqual(Array(ones).fill(1));
    expect(await results('6 div 2 sub result eq 2')).toEqual(Array(ones).fill(1));
    // FROST's fixture has no 0; here 2 mod (0 + 1) is 0 as well.
    expect(await results('1 add 2.0 mod (result add 1) eq 1')).toEqual(values.filter((v) => 2 % (v + 1) === 0));
    expect(await results('14 div (result add 1) mod 3 mul 3 eq 3')).toEqual(values.filter((v) => ((14 / (v + 1)) % 3) * 3 === 3));
  });
});

describe('$resultFormat=dataArray (DataArrayTests.test01GetDataArray, test02GetDataArraySelect)', () => {
  async function check(query: string, components: string[]): Promise<void> {
    const res = await f.get(`Observations?${query}`);
    expect(res.status).toBe(200);
    expect(res.body).toHaveProperty('@iot.count');
    expect(res.body).toHaveProperty('@iot.nextLink');
    for (const block of res.body.value) {
      expect(block).toHaveProperty('Datastream@iot.navigationLink');
      expect([...block.components].sort()).toEqual([...components].sort());
      expect(new Set(block.components).size).toBe(block.components.length);
      expect(block['dataArray@iot.count']).toBe(block.dataArray.length);
      for (const row of block.dataArray) expect(row).toHaveLength(block.components.length);
    }
  }
  it('answers components and rows for every property, and for a $select', async () => {
    await check('$count=true&$top=3&$resultFormat=dataArray', ['id', 'phenomenonTime', 'result', 'resultTime', 'resultQuality', 'validTime', 'parameters']);
    await check(`$count=true&$top=4&$resultFormat=dataArray&$select=result,phenomenonTime&$orderby=${encodeURIComponent('phenomenonTime desc')}`, ['result', 'phenomenonTime']);
  });
  it('refuses dataArray outside Observations collections', async () => {
    expect((await f.get('Things?$resultFormat=dataArray')).status).toBe(400);
  });
});
