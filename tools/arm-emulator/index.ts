// The ARM emulator's public surface: what the sandbox (src/sandbox), the benches and the tests of the
// app use. Its modules stay internal; src/ may import this file and nothing else under tools/
// (test/architecture/dependencies.test.ts).

export { ArmError } from './arm-error';
export type { DeliveryOrder, EventFeed, RecordedChange, TakeOptions } from './event-feed';
export { type EventInput, resourceDeleteEvent, resourceWriteEvent } from './events';
export type { FaultAction, FaultHandle, FaultRule } from './faults';
export { cosmosAssignments } from './handlers/cosmos-sql-rbac';
export { seedFederatedCredential } from './handlers/federated-credentials';
export { type Creator, creatorOf, SEED_CREATOR } from './handlers/user-assigned-identities';
export { compileKql } from './kql';
export { ROLE } from './role-definitions';
export {
  SEED_TYPES,
  type SeedResourceInput,
  seedChildScope,
  seedResource,
  seedScopeResource,
  seedUserAssignedIdentity,
} from './seed';
export {
  type DaprComponentSeed,
  seedCosmosAccount,
  seedDaprApp,
  seedDaprComponent,
  seedLocalAuthTarget,
  seedManagedEnvironment,
} from './seed-dapr';
export { ArmEmulator, type EmulatorOptions, type RequestLogEntry, startArmEmulator } from './server';
export { type EmulatorSnapshot, restoreState, snapshotState } from './snapshot';
export { coverageLine, type SpecViolation } from './spec-validation';
export { EmulatorState } from './state';
