/**
 * Reads device models from a checkout of The Things Network's device repository
 * (TheThingsNetwork/lorawan-devices) in its layout:
 *
 *   vendor/<vendor>/index.yaml            endDevices: [<device>, …]
 *   vendor/<vendor>/<device>.yaml         name, description, sensors, firmwareVersions[].profiles.<region>.codec
 *   vendor/<vendor>/<codec>.yaml          uplinkDecoder: { fileName, examples: […] }
 *   vendor/<vendor>/<fileName>            the codec (fileName may name a sub-folder: payload/r719a.js)
 *
 * A path is a vendor folder (every device in its index) or one device YAML. One model is
 * made per device and codec; the category comes from what the device says of itself
 * (sensors, name, description), where that is clear.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import type { ModelCategory } from './types.js';

export interface RepositoryModel {
  /** Model id for stadtfunk: `<vendor>-<device>` (plus `-<codec>` when a device has several codecs). */
  id: string;
  name: string;
  vendor: string;
  device: string;
  /** The codec YAML's id (file name without .yaml) and the script's path relative to the vendor folder. */
  codec: string;
  codecFile: string;
  script: string;
  /** uplinkDecoder.examples as written (checked by the examples gate on import). */
  examples: unknown[];
  /** Category from the device's own description; null when it does not say clearly. */
  category: ModelCategory | null;
  sensors: string[];
}

export interface RepositoryProblem {
  file: string;
  problem: string;
}

const read = async (file: string): Promise<unknown> => parse(await fs.readFile(file, 'utf8'), { version: '1.2' }) as unknown;
const record = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64);

/** Words that say what a device is, strongest first. */
const CATEGORY_WORDS: [RegExp, ModelCategory][] = [
  [/people[\s-]?count|footfall|visitor count|person count|passenger count|paxcounter|people flow|people sensing/, 'people'],
  [/parking|car park|parking space|parking spot|vehicle presence/, 'parking'],
  [/vehicle count|car count|traffic count|traffic (sensor|radar|monitor)|vehicle detection/, 'traffic'],
  [/street ?light|lighting controller|luminaire|lamp controller|dali/, 'streetlight'],
];

/** The category a device's YAML points to: its name first, then its description, then its sensors list. */
export function categoryOfDevice(name: string, description: string, sensors: string[]): ModelCategory | null {
  for (const text of [name.toLowerCase(), description.toLowerCase()]) {
    for (const [re, category] of CATEGORY_WORDS) if (re.test(text)) return category;
  }
  const text = `${name} ${description}`.toLowerCase();
  const s = new Set(sensors.map((x) => x.toLowerCase()));
  if (/water level|river|flood|level sensor|tank level|gauge/.test(text) && (s.has('level') || s.has('distance'))) return 'water';
  const air = ['co2', 'pm2.5', 'pm10', 'particulate matter', 'dust', 'no2', 'o3', 'co', 'so2', 'barometer', 'tvoc'];
  if (air.some((a) => s.has(a)) || /air quality|indoor climate|environment(al)? sensor|weather station/.test(text)) return 'air';
  return null;
}

/** The models of a vendor folder or of one device YAML; problems are reported, not thrown. */
export async function readRepositoryPath(target: string): Promise<{ models: RepositoryModel[]; problems: RepositoryProblem[] }> {
  const stat = await fs.stat(target);
  const problems: RepositoryProblem[] = [];
  let vendorDir: string;
  let devices: string[];
  if (stat.isDirectory()) {
    vendorDir = target;
    const index = record(await read(path.join(target, 'index.yaml')).catch((e: Error) => problems.push({ file: path.join(target, 'index.yaml'), problem: e.message })));
    devices = Array.isArray(index.endDevices) ? index.endDevices.filter((d): d is string => typeof d === 'string') : [];
    if (devices.length === 0) problems.push({ file: path.join(target, 'index.yaml'), problem: 'no endDevices listed' });
  } else {
    vendorDir = path.dirname(target);
    devices = [path.basename(target).replace(/\.ya?ml$/, '')];
  }
  const vendor = slug(path.basename(path.resolve(vendorDir)));
  const models: RepositoryModel[] = [];
  for (const device of devices) {
    const deviceFile = path.join(vendorDir, `${device}.yaml`);
    try {
      models.push(...(await readDevice(vendorDir, vendor, device, deviceFile, problems)));
    } catch (error) {
      problems.push({ file: deviceFile, problem: (error as Error).message });
    }
  }
  return { models, problems };
}

async function readDevice(vendorDir: string, vendor: string, device: string, deviceFile: string, problems: RepositoryProblem[]): Promise<RepositoryModel[]> {
  const doc = record(await read(deviceFile));
  const name = typeof doc.name === 'string' ? doc.name : device;
  const description = typeof doc.description === 'string' ? doc.description : '';
  const sensors = Array.isArray(doc.sensors) ? doc.sensors.filter((x): x is string => typeof x === 'string') : [];
  const codecs = new Set<string>();
  for (const fw of Array.isArray(doc.firmwareVersions) ? doc.firmwareVersions : []) {
    for (const profile of Object.values(record(record(fw).profiles))) {
      const codec = record(profile).codec;
      if (typeof codec === 'string') codecs.add(codec);
    }
  }
  if (codecs.size === 0) problems.push({ file: deviceFile, problem: 'no codec in any firmware profile' });
  const out: RepositoryModel[] = [];
  for (const codec of codecs) {
    const codecYaml = path.join(vendorDir, `${codec}.yaml`);
    const uplink = record(record(await read(codecYaml)).uplinkDecoder);
    if (typeof uplink.fileName !== 'string') {
      problems.push({ file: codecYaml, problem: 'no uplinkDecoder.fileName' });
      continue;
    }
    const script = await fs.readFile(path.join(vendorDir, uplink.fileName), 'utf8');
    out.push({
      id: slug(codecs.size > 1 ? `${vendor}-${device}-${codec}` : `${vendor}-${device}`),
      name: name.slice(0, 200), vendor, device, codec, codecFile: uplink.fileName, script,
      examples: Array.isArray(uplink.examples) ? uplink.examples : [],
      category: categoryOfDevice(name, description, sensors), sensors,
    });
  }
  return out;
}
