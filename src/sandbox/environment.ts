import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { type ArmEmulator, type EmulatorSnapshot, ROLE, restoreState, snapshotState, startArmEmulator } from '../../tools/arm-emulator';
import { type Autopilot, createAutopilot } from '../app/composition';
import { MemoryLedger } from '../ledger/memory-ledger';
import type { LedgerStore } from '../ledger/types';
import { readSettings } from '../settings/settings';
import { type DemoResource, SANDBOX_SUBSCRIPTION, seedDemoEstate } from './estate';

export const SANDBOX_RULES_PATH = join(__dirname, 'rules.yaml');
/** The file in a `--sandbox-state` directory that holds the emulator's state between runs. */
export const SANDBOX_STATE_FILE = 'emulator-state.json';

export interface Sandbox {
  emulator: ArmEmulator;
  estate: DemoResource[];
  app: Autopilot;
  close(): Promise<void>;
}

/**
 * The embedded default: the ARM emulator with the demo estate, and the app wired by the one
 * composition root, running under its own managed identity from the emulator's token endpoint.
 */
export async function startSandbox(
  options: {
    rulesPath?: string;
    lroMs?: number;
    /** Default: in memory, gone when the sandbox closes. */
    ledger?: LedgerStore;
    /** One line per ARM call (the CLI's `--debug`). */
    armRequestLog?: (line: string) => void;
    /**
     * Keep the estate between runs (the CLI's `--sandbox-state <dir>`): the state saved there by the last
     * run is restored over the fresh seed, and this run's is saved there when the sandbox closes.
     */
    stateDir?: string;
  } = {},
): Promise<Sandbox> {
  const emulator = await startArmEmulator({ lro: { durationMs: options.lroMs ?? 300, retryAfterSeconds: 0 } });
  const estate = seedDemoEstate(emulator);
  const stateFile = options.stateDir ? join(options.stateDir, SANDBOX_STATE_FILE) : undefined;
  if (stateFile && existsSync(stateFile)) restoreState(emulator.state, readSnapshot(stateFile));
  // Owner here for brevity; `npm run infra:params` derives the least-privilege grants used in Azure.
  emulator.state.grant({
    principalId: emulator.appPrincipal.id,
    roleDefinitionGuid: ROLE.owner,
    scope: `/subscriptions/${SANDBOX_SUBSCRIPTION}`,
  });
  Object.assign(process.env, emulator.managedIdentityEnvironment);
  const settings = readSettings({
    AUTOPILOT_ARM_ENDPOINT: emulator.url,
    AUTOPILOT_RULES_PATH: options.rulesPath ?? SANDBOX_RULES_PATH,
    AUTOPILOT_LRO_POLL_INTERVAL_MS: '100',
  });
  const app = createAutopilot(settings, {
    ca: emulator.ca,
    credential: new ManagedIdentityCredential(),
    ledger: options.ledger ?? new MemoryLedger(),
    armRequestLog: options.armRequestLog,
  });
  const save = () => {
    if (!stateFile) return;
    mkdirSync(options.stateDir!, { recursive: true });
    writeFileSync(stateFile, JSON.stringify(snapshotState(emulator.state)), { mode: 0o600 });
  };
  return {
    emulator,
    estate,
    app,
    close: async () => {
      try {
        save();
      } finally {
        await emulator.close();
      }
    },
  };
}

function readSnapshot(file: string): EmulatorSnapshot {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as EmulatorSnapshot;
  } catch (e) {
    throw new Error(`cannot read the sandbox state ${file} (delete it to start afresh): ${e instanceof Error ? e.message : String(e)}`);
  }
}
