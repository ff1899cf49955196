import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The `identity-autopilot` command as installed (package.json `bin`). */
export const BIN = join(__dirname, '..', '..', 'src', 'cli', 'bin.cjs');

/** Environment without any ledger setting, so tests do not depend on the developer's shell. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AUTOPILOT_') || k.startsWith('AzureWebJobsStorage')) delete env[k];
  return { ...env, ...extra };
}

/** The real binary, as a user runs it; stdin, stdout and stderr piped, so no terminal. */
export function cli(args: string[], env: NodeJS.ProcessEnv = cleanEnv(), options: { cwd?: string; bin?: string } = {}) {
  const r = spawnSync(process.execPath, [options.bin ?? BIN, ...args], {
    encoding: 'utf8',
    timeout: 90_000,
    env,
    input: '',
    cwd: options.cwd,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
