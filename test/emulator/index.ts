export { ArmEmulator, startArmEmulator, type EmulatorOptions, type RequestLogEntry } from './server';
export { ArmError } from './arm-error';
export type { FaultRule, FaultAction, FaultHandle } from './faults';
export { ROLE } from './role-definitions';
export type { SpecViolation } from './spec-validation';
export { EmulatorState } from './state';
