/**
 * Registers a simulated fleet (device models, assets, devices with sealed ABP keys)
 * directly in the database: the fixture path, usable before any API key exists.
 * Idempotent: the same seed registers the same city again without duplicates.
 */
import type pg from 'pg';
import { createKeyVault, keyAad } from '../ingest/lorawan/index.js';
import { inTransaction, upsertAsset, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { MODELS, type SimDevice } from './fleet.js';

export async function registerFleet(pool: pg.Pool, fleet: SimDevice[], masterKey: Buffer | null): Promise<void> {
  const vault = masterKey ? createKeyVault(masterKey) : null;
  for (const model of Object.values(MODELS)) {
    await upsertDeviceModel(pool, { id: model.id, name: model.name, decoderKind: 'builtin', builtinName: model.builtin, expectedIntervalS: model.intervalS, batteryLowVolts: model.batteryLowVolts ?? null });
  }
  await inTransaction(pool, async (client) => {
    for (const device of fleet) {
      await upsertAsset(client, device.asset);
      await upsertDevice(client, {
        devEui: device.devEui,
        modelId: device.modelId,
        assetId: device.asset.id,
        name: `${device.kind} ${device.index + 1}`,
        devAddr: device.devAddr,
        nwkSKeySealed: vault?.sealKey(device.nwkSKey, keyAad(device.devEui, 'nwkSKey')) ?? null,
        appSKeySealed: vault?.sealKey(device.appSKey, keyAad(device.devEui, 'appSKey')) ?? null,
        expectedIntervalS: device.intervalS,
      });
    }
  });
}
