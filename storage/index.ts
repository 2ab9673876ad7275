/** The storage stage: what other stages may use. */
export { createPool, closePool, checkDatabase, probeDatabase, withClient, inTransaction, refusedByDatabase, type ProbeResult } from './database.js';
export { migrate, listMigrations } from './migrate.js';
export { detectTimescale } from './timescale.js';
export { readingsKeyCollation, databaseDefaultCollation, type KeyCollation } from './collation.js';
export { writeBatch, newestPerKey } from './writer.js';
export { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded-postgres.js';
export { assertPortFree } from './port-check.js';
export { selectDeviceContexts, type DeviceContext } from './sql/select-devices.js';
export { selectCounterSeries } from './sql/counter-series.js';
export type { UplinkRow, ReadingRow, DeadLetterRow, WriteBatch, WriteResult } from './rows.js';
export { selectDeviceReadings, selectDeviceLatest, type ReadingOut, type DeviceReadingsQuery } from './sql/select-readings.js';
export { upsertDeviceModel, upsertAsset, upsertDevice, type DeviceModelInput, type AssetInput, type DeviceInput } from './sql/registry.js';
export { insertNewAsset, insertNewDevice } from './sql/registration.js';
export {
  selectAbpCandidates, claimFrameIds, mergeReceptions, upsertConcentratorStats,
  type AbpCandidateRow, type FrameIdRow, type CounterRow, type ReceptionMergeRow, type ConcentratorStatsRow,
} from './sql/frames.js';
export { updateDeviceProgress, type DeviceProgressRow } from './sql/update-device-progress.js';
export { insertApiKey, selectApiKeyByHash, selectApiKeys, revokeApiKey, type ApiKeyRow, type Role } from './sql/api-keys.js';
export { insertAuditEntries, upsertAuditReads, selectAuditEntries, type AuditEntry, type AuditRead, type AuditRow } from './sql/audit.js';
export {
  selectAsset, selectAssets, decommissionAsset, selectDeviceModel, selectDeviceModels, selectDevice, selectDevices,
  moveDevice, decommissionDevice, selectDeviceMounts, type AssetRow, type DeviceModelRow, type DeviceRow,
} from './sql/registry-queries.js';
export { selectLatestByAsset, selectZoneOccupancy, type LatestByAssetRow, type ZoneOccupancyRow } from './sql/live.js';
export { bayState, OCCUPIED_FROM, type BayState } from './sql/bay-state.js';
export { selectSeries, selectSeriesJson, seriesStatement, selectExportPage, selectExportDevices, type Bucket, type SeriesRow, type SeriesQuery, type SeriesJson, type ExportRow } from './sql/open-data.js';
export {
  selectDeadLetters, selectDeadLetterSize, selectDeadLetterSlice, countDeadLettersByReason, selectConcentrators, selectSilentDevices, selectLowBatteries, selectDatabaseSize, selectCompressionState,
  type DeadLetterOut, type ConcentratorOut,
} from './sql/ops.js';
export {
  addIngestMinutes, addConcentratorMinutes, deleteOpsHistoryBefore, selectIngestHistory, selectDeadLetterHistory, selectConcentratorHistory,
  type IngestMinuteRow, type ConcentratorMinuteRow, type IngestBucketRow, type ConcentratorBucketRow,
} from './sql/ops-history.js';
export { applyTimescalePolicies, type TimescalePolicies } from './timescale-policies.js';
export { selectUplinksForRedecode, deleteReadingsOfUplinks, updateDecoded, type StoredUplink } from './sql/redecode.js';
export { insertReadings } from './sql/insert-readings.js';
export { upsertLatestState } from './sql/upsert-latest-state.js';
export * from './sta/index.js';
export {
  selectOtaaDevices, claimJoins, promoteSessions, joinKey,
  type OtaaDeviceRow, type JoinRow, type SessionPromotionRow,
} from './sql/joins.js';
export {
  recordDataDownlinks, applyTxAcks, expireDownlinks, applyDeviceAcks,
  type DataDownlinkRow, type DownlinkCounterRow, type DownlinkRecordRow, type TxAckRow, type DeviceAckRow,
} from './sql/downlinks.js';
export {
  updateDownlinkRoutes, selectDownlinkTarget, insertQueueItems, selectQueueItems, selectQueueItem, selectRecentQueueItems, cancelQueueItem,
  claimNetworkServerItems, applyNetworkServerReports, releaseQueueItems,
  type DownlinkRoute, type DownlinkRouteRow, type DownlinkTarget, type QueueInsert, type QueueItemRow, type NetworkServerItem, type NetworkServerReport,
} from './sql/downlink-queue.js';
export type { PlannedDownlink } from './rows.js';
export { selectLamps, type LampRow } from './sql/lamps.js';
export {
  insertUser, selectUserByUsername, selectUserById, selectUsers, updateUser, claimSignInAttempt, recordSignInSuccess, unlockUser,
  upgradePasswordHash, upsertOidcUser, type UserRow,
} from './sql/users.js';
export {
  insertSession, selectActiveSession, touchSession, deleteSession, deleteUserSessions, countUserSessions, upsertUserDevice,
  claimDeviceAttempt, deleteExpiredSignInState, type ActiveSessionRow,
} from './sql/sessions.js';
export { claimAddressAttempt, selectAddressWindowEnd, releaseAddressAttempt } from './sql/sign-in-failures.js';
export { insertOidcFlow, takeOidcFlow, type OidcFlowRow } from './sql/oidc-flows.js';
export { selectGarageSites, selectZoneSites, type GarageSiteRow, type ZoneSiteRow } from './sql/parking-sites.js';
export { selectPublishedKinds, type PublishedKindRow } from './sql/catalog.js';
