// The ARM emulator's public surface: what the sandbox (src/sandbox), the benches and the tests of the
// app use. Its modules stay internal; src/ may import this file and nothing else under tools/
// (test/architecture/dependencies.test.ts).
export { ArmEmulator, startArmEmulator, type EmulatorOptions, type RequestLogEntry } from './server';
export { ArmError } from './arm-error';
export type { FaultRule, FaultAction, FaultHandle } from './faults';
export { ROLE } from './role-definitions';
export { coverageLine, type SpecViolation } from './spec-validation';
export { EmulatorState } from './state';
export { SEED_TYPES, seedResource, seedScopeResource, seedUserAssignedIdentity, type SeedResourceInput } from './seed';
export { seedCosmosAccount, seedDaprComponent, seedManagedEnvironment, type DaprComponentSeed } from './seed-dapr';
export { resourceWriteEvent, type EventInput } from './events';
export { cosmosAssignments } from './handlers/cosmos-sql-rbac';
export { compileKql } from './kql';
