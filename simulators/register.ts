/**
 * Registers a simulated fleet (device models, assets, devices with sealed ABP keys)
 * directly in the database: the fixture path, usable before any API key exists.
 * Idempotent: the same seed registers the same city again without duplicates.
 */
import type pg from 'pg';
import { createKeyVault, keyAad } from '../ingest/lorawan/index.js';
import { inTransaction, upsertAsset, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { MODELS, type SimDevice } from './fleet.js';
import { otaaIdentityOf } from './otaa-city.js';

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

/**
 * Registers a fleet for over-the-air activation: each device with its JoinEUI, AppKey
 * (sealed) and LoRaWAN version, and no session: it gets one by joining.
 */
export async function registerOtaaFleet(pool: pg.Pool, fleet: SimDevice[], masterKey: Buffer, seed: string | number): Promise<void> {
  const vault = createKeyVault(masterKey);
  for (const model of Object.values(MODELS)) {
    await upsertDeviceModel(pool, { id: model.id, name: model.name, decoderKind: 'builtin', builtinName: model.builtin, expectedIntervalS: model.intervalS });
  }
  await inTransaction(pool, async (client) => {
    for (const device of fleet) {
      const id = otaaIdentityOf(device, seed);
      await upsertAsset(client, device.asset);
      await upsertDevice(client, {
        devEui: device.devEui, modelId: device.modelId, assetId: device.asset.id, name: `${device.kind} ${device.index + 1} (OTAA)`,
        joinEui: id.joinEui, macVersion: id.macVersion, appKeySealed: vault.sealKey(id.appKey, keyAad(device.devEui, 'appKey')), expectedIntervalS: device.intervalS,
      });
    }
  });
}
