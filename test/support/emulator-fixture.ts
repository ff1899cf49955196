import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before } from 'node:test';
import type { TokenCredential } from '@azure/core-auth';
import { type ArmClients, type ArmConnection, createArmClients } from '../../src/azure/clients';
import { type ArmEmulator, type EmulatorOptions, type SpecViolation, startArmEmulator } from '../../tools/arm-emulator';
import type { Principal } from '../../tools/arm-emulator/directory';

export const SUB_A = '11111111-1111-4111-8111-111111111111';
export const SUB_B = '22222222-2222-4222-8222-222222222222';

export interface EmulatorFixture {
  readonly emulator: ArmEmulator;
  /** A connection for a credential, trusting only this run's certificate. */
  connection(credential: TokenCredential): ArmConnection;
  /** Real SDK clients acting as `principal` (default: the app principal). */
  clients(principal?: Principal, subscriptionId?: string): ArmClients;
}

/**
 * Starts the emulator once for the suite (file) and stops it afterwards. After every test it waits
 * for the spec checks and fails that test if any request or response broke the official specs.
 */
export function useEmulator(options: EmulatorOptions & { subscriptions?: string[] } = {}): EmulatorFixture {
  let emulator: ArmEmulator | undefined;
  before(async () => {
    emulator = await startArmEmulator(options);
    for (const sub of options.subscriptions ?? [SUB_A]) emulator.state.addSubscription(sub);
  });
  afterEach(async () => {
    const fresh = (await emulator!.specViolations()).splice(0);
    assert.deepEqual(fresh, [], 'traffic broke the official REST specs');
  });
  after(async () => {
    await emulator?.close();
    if (emulator) recordSpecCoverage(emulator);
  });
  const fixture: EmulatorFixture = {
    get emulator() {
      assert.ok(emulator, 'the emulator starts in before()');
      return emulator;
    },
    connection(credential) {
      return { endpoint: fixture.emulator.url, ca: fixture.emulator.ca, credential };
    },
    clients(principal, subscriptionId = SUB_A) {
      const emu = fixture.emulator;
      return createArmClients(fixture.connection(emu.credentialFor(principal ?? emu.appPrincipal)), subscriptionId);
    },
  };
  return fixture;
}

/**
 * scripts/run-tests.mjs sets SPEC_COVERAGE_DIR: each test file leaves its emulator's spec coverage
 * there, and the runner prints the sum ("N of M ARM calls spec-checked, by operation").
 */
function recordSpecCoverage(emulator: ArmEmulator): void {
  const dir = process.env.SPEC_COVERAGE_DIR;
  if (!dir || emulator.specs.coverage.size === 0) return;
  writeFileSync(join(dir, `${process.pid}-${randomUUID()}.json`), JSON.stringify(Object.fromEntries(emulator.specs.coverage)));
}

/** Drops spec violations a test provoked on purpose, so the fixture does not fail it. */
export async function takeSpecViolations(emulator: ArmEmulator): Promise<SpecViolation[]> {
  return (await emulator.specViolations()).splice(0);
}
