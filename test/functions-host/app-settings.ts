// The app settings that wire the app in its own process (app-host.ts) to this run's emulator, as
// test/support/app-fixture.ts does in-process.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArmEmulator } from '../../tools/arm-emulator';

/** App settings (environment variables of the app's process) for an app talking to the emulator. */
export function emulatorAppSettings(emulator: ArmEmulator, rulesYaml: string, more: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'functions-app-'));
  writeFileSync(join(dir, 'rules.yaml'), rulesYaml);
  writeFileSync(join(dir, 'ca.pem'), emulator.ca);
  return {
    AUTOPILOT_RULES_PATH: join(dir, 'rules.yaml'),
    AUTOPILOT_ARM_ENDPOINT: emulator.url,
    AUTOPILOT_ARM_CA_PATH: join(dir, 'ca.pem'),
    AUTOPILOT_LRO_POLL_INTERVAL_MS: '20',
    ...emulator.managedIdentityEnvironment,
    ...more,
  };
}
