import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ArmEmulator } from '../../tools/arm-emulator';

const REPO = join(__dirname, '..', '..');

export interface ScriptResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a script under scripts/ as azd or `npm run` would, as a child process (asynchronously: the
 * emulator answers from this process) with the emulator's managed-identity endpoint (picked up by
 * DefaultAzureCredential) and its ARM endpoint and CA, in `dir` as working and home directory.
 * stdin is a closed pipe: the script never has a terminal.
 */
export function runScriptAgainstEmulator(
  emulator: ArmEmulator,
  dir: string,
  script: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<ScriptResult> {
  const ca = join(dir, 'ca.pem');
  if (!existsSync(ca)) writeFileSync(ca, emulator.ca);
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, join(REPO, script), ...args], {
    cwd: dir,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      ...emulator.managedIdentityEnvironment,
      AUTOPILOT_ARM_ENDPOINT: emulator.url,
      AUTOPILOT_ARM_CA_PATH: ca,
      ...extraEnv,
    },
  });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}
