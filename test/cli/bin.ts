import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(__dirname, '..', '..', 'src', 'cli', 'bin.cjs');

/** The environment without any ledger or app setting, so tests do not depend on the developer's shell. */
export function cleanCliEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AUTOPILOT_') || k.startsWith('AzureWebJobsStorage')) delete env[k];
  return env;
}

/** The real binary, as a user runs it, with stdin, stdout and stderr piped (no terminal). */
export function runBin(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 90_000, env: cleanCliEnv(), input: '' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
