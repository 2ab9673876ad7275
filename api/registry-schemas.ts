/** Request and response schemas of the registry (shared by the routes and the CSV import). */
import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './schemas.js';

export const ASSET_KINDS = ['street_lamp', 'parking_bay', 'garage', 'traffic_site', 'water_gauge'] as const;
export const AssetId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$', description: 'e.g. the lamp number: lamp-0815' });
export const ModelId = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' });
const Hex16 = Type.String({ pattern: '^[0-9a-fA-F]{16}$' });
const Key = Type.String({ pattern: '^[0-9a-fA-F]{32}$', description: '16 bytes as 32 hex digits; write-only' });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const AssetInput = Type.Object({
  id: AssetId,
  kind: StringEnum(ASSET_KINDS),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  latitude: Type.Number({ minimum: -90, maximum: 90, description: 'WGS84' }),
  longitude: Type.Number({ minimum: -180, maximum: 180, description: 'WGS84' }),
  zone: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
  isPublic: Type.Optional(Type.Boolean({ description: 'shown in open data (single parking bays: otherwise only in zone totals)' })),
  capacity: Type.Optional(Type.Integer({ minimum: 0, description: 'garages: number of spaces' })),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'traffic sites: lanes, directions' })),
  notes: Type.Optional(Type.String({ maxLength: 2000, description: 'internal; never in open data' })),
}, { additionalProperties: false });
export const AssetPatch = Type.Partial(Type.Omit(AssetInput, ['id']), { additionalProperties: false });

export const Asset = Type.Object({
  id: Type.String(), kind: Type.String(), name: Type.Union([Type.String(), Type.Null()]),
  latitude: Type.Union([Type.Number(), Type.Null()]), longitude: Type.Union([Type.Number(), Type.Null()]),
  zone: Type.Union([Type.String(), Type.Null()]), isPublic: Type.Boolean(), capacity: Type.Union([Type.Integer(), Type.Null()]),
  attributes: Type.Record(Type.String(), Type.Unknown()), notes: Type.Union([Type.String(), Type.Null()]),
  decommissionedAt: Type.Union([Type.String(), Type.Null()]), createdAt: Type.String(), updatedAt: Type.String(),
});

const FieldMapping = Type.Object({
  path: Type.String({ minLength: 1 }), metric: Type.String(), channel: Type.Optional(Type.String()), unit: Type.Optional(Type.String()),
  scale: Type.Optional(Type.Number({ description: 'after the unit conversion: value × scale + offset' })), offset: Type.Optional(Type.Number()),
  below: Type.Optional(Type.Number({ description: 'reading 1 when the value is below this, else 0 (occupancy from a distance)' })),
  values: Type.Optional(Type.Record(Type.String(), Type.Number(), { description: 'strings to numbers, e.g. {"occupied": 1, "vacant": 0}' })),
}, { additionalProperties: false });
export const MODEL_CATEGORY_VALUES = ['air', 'parking', 'people', 'traffic', 'streetlight', 'water', 'other'] as const;
export const ModelCategorySchema = Type.Union(MODEL_CATEGORY_VALUES.map((c) => Type.Literal(c)), { description: 'what the model measures: people counters count people, traffic counters vehicles' });
export const ModelInput = Type.Object({
  id: ModelId,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  decoder: Type.Union([
    Type.Object({ kind: Type.Literal('builtin'), name: Type.String() }, { additionalProperties: false }),
    Type.Object({ kind: Type.Literal('codec'), script: Type.String({ minLength: 1, maxLength: 512_000 }) }, { additionalProperties: false }),
  ]),
  mapping: Type.Optional(Type.Array(FieldMapping)),
  examples: Type.Optional(Type.Array(Type.Unknown())),
  expectedIntervalS: Type.Optional(Type.Integer({ minimum: 1 })),
  batteryLowVolts: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100, description: 'battery voltage below which a device counts as low, V (the cockpit lists it); without it voltage is not judged' })),
  batteryLowPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'battery level below which a device counts as low, %; default 20' })),
  category: Type.Optional(ModelCategorySchema),
}, { additionalProperties: false });

const Proposal = Type.Object({
  mapping: Type.Array(FieldMapping, { description: 'what the built-in mappings make of the examples (used while the model has no mapping of its own)' }),
  left: Type.Array(Type.Object({ path: Type.String(), reason: Type.String() }), { description: 'fields recognised but left in the decoded payload, and why' }),
});
/** A model as the registry answers: what was put, whether its codec is verified by examples, and the proposal. */
export const ModelOutput = Type.Object({
  ...ModelInput.properties,
  verified: Type.Boolean({ description: 'a codec with examples that all passed the exact gate; false: unverified (no examples)' }),
  category: Type.Union([ModelCategorySchema, Type.Null()]),
  proposal: Type.Union([Proposal, Type.Null()]),
  source: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

export const DeviceInput = Type.Object({
  devEui: Type.Optional(Hex16),
  qr: Type.Optional(Type.String({ maxLength: 512, description: 'LoRa Alliance TR005 QR code string instead of devEui/joinEui' })),
  joinEui: Type.Optional(Hex16),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  modelId: ModelId,
  assetId: Type.Optional(AssetId),
  devAddr: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{8}$' })),
  nwkSKey: Type.Optional(Key),
  appSKey: Type.Optional(Key),
  appKey: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{32}$', description: 'OTAA: the AppKey, 16 bytes as 32 hex digits; write-only (with joinEui, or the TR005 QR code)' })),
  macVersion: Type.Optional(Type.Union(['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4'].map((v) => Type.Literal(v)), { description: 'LoRaWAN version of the device (DevNonce rule of its joins); default 1.0.3' })),
  allowCounterReset: Type.Optional(Type.Boolean()),
  expectedIntervalS: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false });
export type DeviceInputT = Static<typeof DeviceInput>;

export const Device = Type.Object({
  devEui: Type.String(), name: Type.Union([Type.String(), Type.Null()]), modelId: Type.String(), assetId: Type.Union([Type.String(), Type.Null()]),
  joinEui: Type.Union([Type.String(), Type.Null()]), devAddr: Type.Union([Type.String(), Type.Null()]),
  nwkSKeySet: Type.Boolean(), appSKeySet: Type.Boolean(), allowCounterReset: Type.Boolean(), fCntUp: Type.Union([Type.Integer(), Type.Null()]),
  appKeySet: Type.Boolean({ description: 'OTAA: an AppKey is registered (never returned)' }), macVersion: Type.String(),
  joinPending: Type.Boolean({ description: 'OTAA: joined, the new session not yet proven by an uplink' }),
  expectedIntervalS: Type.Union([Type.Integer(), Type.Null()]), lastSeenAt: Type.Union([Type.String(), Type.Null()]),
  decommissionedAt: Type.Union([Type.String(), Type.Null()]), createdAt: Type.String(), updatedAt: Type.String(),
});

