/**
 * A SensorThings 1.1 client written from the standard alone (OGC 18-088 §8 data model,
 * §9.2 resource paths, §9.3.3.4 server-driven paging), sharing no code with the server:
 * it knows the entity sets and their navigation properties as the standard's tables name
 * them, and otherwise only follows the links a response gives it.
 */

/** Navigation properties per entity set (OGC 18-088 Figure 2 and Tables 5–14). */
export const NAVIGATION: Record<string, string[]> = {
  Things: ['Locations', 'HistoricalLocations', 'Datastreams'],
  Locations: ['Things', 'HistoricalLocations'],
  HistoricalLocations: ['Thing', 'Locations'],
  Datastreams: ['Thing', 'Sensor', 'ObservedProperty', 'Observations'],
  Sensors: ['Datastreams'],
  ObservedProperties: ['Datastreams'],
  Observations: ['Datastream', 'FeatureOfInterest'],
  FeaturesOfInterest: ['Observations'],
};

export type Entity = Record<string, unknown> & { '@iot.id': unknown; '@iot.selfLink': string };

export class SpecClient {
  requests = 0;
  constructor(private readonly root: string) {}

  async get(url: string): Promise<{ status: number; body: any }> {
    this.requests++;
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** The service root: entity set names and URLs. */
  async entitySets(): Promise<{ name: string; url: string }[]> {
    const res = await this.get(this.root);
    if (res.status !== 200) throw new Error(`service root answered ${res.status}`);
    return res.body.value;
  }

  /**
   * Every entity of a collection, following @iot.nextLink to the end (§9.3.3.4). Checks on
   * the way: each page's @iot.count is the same, and the number of entities equals it.
   */
  async all(url: string, withCount = true): Promise<{ entities: Entity[]; pages: number; count: number | null }> {
    const entities: Entity[] = [];
    let next: string | undefined = withCount ? `${url}${url.includes('?') ? '&' : '?'}$count=true` : url;
    let pages = 0;
    let count: number | null = null;
    while (next) {
      const res = await this.get(next);
      if (res.status !== 200) throw new Error(`${next} answered ${res.status}: ${JSON.stringify(res.body)}`);
      pages++;
      if (withCount) {
        if (count === null) count = res.body['@iot.count'];
        else if (res.body['@iot.count'] !== count) throw new Error(`@iot.count changed from ${count} to ${res.body['@iot.count']} at ${next}`);
      }
      entities.push(...res.body.value);
      next = res.body['@iot.nextLink'];
    }
    if (withCount && count !== entities.length) throw new Error(`${url}: @iot.count ${count} but ${entities.length} entities`);
    return { entities, pages, count };
  }
}
