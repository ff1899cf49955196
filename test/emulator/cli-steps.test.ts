/**
 * `npm run emulator` prints the Azure CLI steps to explore it; they must work as printed (issue 24 D8):
 * the steps are run by bash with the real `az`, in the directory the emulator ran in. Skips itself
 * when `az` is not installed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { azureCliAvailable } from '../conformance/azure-cli';

const AVAILABLE = azureCliAvailable();
const REPO = join(__dirname, '..', '..');
const CLI = join(REPO, 'tools', 'arm-emulator', 'cli.ts');
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');

/** Starts `npm run emulator -- --estate` in `cwd` and resolves with what it printed up to "Press Ctrl+C". */
function startEmulator(cwd: string): Promise<{ child: ChildProcess; printed: string }> {
  const child = spawn(TSX, [CLI, '--estate'], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let printed = '';
    child.stdout!.on('data', (d) => {
      printed += String(d);
      if (printed.includes('Press Ctrl+C')) resolve({ child, printed });
    });
    child.on('exit', (code) => reject(new Error(`emulator exited ${code}: ${printed}`)));
  });
}

describe('npm run emulator: the printed az steps', { skip: AVAILABLE ? false : 'az is not installed' }, () => {
  let child: ChildProcess | undefined;
  after(() => child?.kill('SIGTERM'));

  it('run as printed: the demo subscription is selected, its groups and the resources of rg-web are listed', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'emulator-steps-'));
    const started = await startEmulator(cwd);
    child = started.child;
    const block = /Azure CLI against the emulator.*\n((?: {2}.*\n)+)/.exec(started.printed);
    assert.ok(block, started.printed);
    const steps = block[1]!
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    assert.match(steps.join('\n'), /^az account set --subscription \S+$/m);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AZURE_CORE_COLLECT_TELEMETRY: 'no',
      AZURE_CORE_NO_COLOR: '1',
      NO_PROXY: '127.0.0.1,localhost',
    };
    for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'MSI_SECRET', 'AZURE_CLIENT_ID', 'HTTPS_PROXY', 'https_proxy'])
      delete env[name];
    const r = spawnSync('bash', ['-e', '-c', steps.join('\n')], { cwd, env, encoding: 'utf8', timeout: 240_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^rg-web\s+westeurope\s+Succeeded$/m, 'az group list shows the demo estate');
    assert.match(r.stdout, /^app-storefront\s+rg-web\s+westeurope\s+Microsoft\.Web\/sites\b/m, 'az resource list -g rg-web works');
  });
});
