/**
 * The Azure CLI as an independent client of the emulator: a custom cloud pointing at it, the
 * emulator's CA trusted through REQUESTS_CA_BUNDLE, state isolated in a temporary AZURE_CONFIG_DIR,
 * and `az login --identity` over the Cloud Shell managed-identity protocol (MSI_ENDPOINT).
 */
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLOUD_NAME, cloudRegistrationArgs } from '../../tools/arm-emulator/azure-cli-cloud';

export interface AzResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** True when an `az` executable is on PATH. */
export function azureCliAvailable(): boolean {
  return (
    spawnSync('az', ['version', '--output', 'none'], { stdio: 'ignore', env: { ...process.env, AZURE_CORE_COLLECT_TELEMETRY: 'no' } })
      .status === 0
  );
}

// Debian's azure-cli 2.45 (package python3-azure 20230112) ships client libraries older than the
// CLI's own profile expects. These are defects of the client package, not disagreements with ARM:
// - azure-mgmt-compute without api-version 2022-11-01 (the `latest` profile's compute version):
//   `az vm|vmss ...` stops with "API version 2022-11-01 does not have operation group";
// - azure-mgmt-authorization 3.0.0, whose operations objects renamed `config` to `_config`, while the
//   CLI's role module reads `definitions_client.config.subscription_id` (role/custom.py): every
//   `az role ...` command stops with "object has no attribute 'config'".
export const COMPUTE_PACKAGING_DEFECT = /API version \S+ does not have operation group/;
export const ROLE_PACKAGING_DEFECT = /Operations' object has no attribute 'config'/;

export class AzureCli {
  private readonly root = mkdtempSync(join(tmpdir(), 'az-conformance-'));
  /** AZURE_CONFIG_DIR with the `latest` profile. */
  private readonly configDir = join(this.root, 'latest');
  /** A copy of the logged-in config with the 2020-09-01-hybrid profile (compute 2020-06-01), for vm/vmss. */
  private readonly computeConfigDir = join(this.root, 'compute');
  computeNeedsHybridProfile = false;
  roleModuleBroken = false;
  readonly calls: Array<{ args: string[]; ms: number; code: number }> = [];

  constructor(private readonly options: { armUrl: string; ca: string; msiEndpoint: string }) {
    writeFileSync(join(this.root, 'ca.pem'), options.ca);
  }

  private env(configDir: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // Only the Cloud Shell protocol: an App Service setting left in the environment must not be used.
    for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'MSI_SECRET', 'AZURE_CLIENT_ID', 'HTTPS_PROXY', 'https_proxy'])
      delete env[name];
    return {
      ...env,
      AZURE_CONFIG_DIR: configDir,
      REQUESTS_CA_BUNDLE: join(this.root, 'ca.pem'),
      MSI_ENDPOINT: this.options.msiEndpoint,
      AZURE_CORE_COLLECT_TELEMETRY: 'no',
      AZURE_CORE_NO_COLOR: '1',
      AZURE_CORE_ONLY_SHOW_ERRORS: '1',
      AZURE_CORE_SURVEY_MESSAGE: 'no',
      NO_PROXY: '127.0.0.1,localhost',
    };
  }

  /** Runs `az` and resolves with its exit code and output (never rejects on a non-zero exit). */
  run(args: string[], options: { compute?: boolean } = {}): Promise<AzResult> {
    const configDir = options.compute && this.computeNeedsHybridProfile ? this.computeConfigDir : this.configDir;
    const started = Date.now();
    return new Promise((resolve) => {
      execFile('az', args, { env: this.env(configDir), maxBuffer: 32 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        this.calls.push({ args, ms: Date.now() - started, code });
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Runs `az ... --output json` and parses its output; a non-zero exit throws with the CLI's stderr. */
  async json<T = any>(args: string[], options: { compute?: boolean } = {}): Promise<T> {
    const r = await this.run([...args, '--output', 'json'], options);
    if (r.code !== 0) throw new Error(`az ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-4).join(' | ')}`);
    return (r.stdout.trim() === '' ? null : JSON.parse(r.stdout)) as T;
  }

  /** `az rest` against the emulator's ARM: the CLI's own authentication and HTTP stack. */
  rest<T = any>(method: string, url: string, body?: unknown): Promise<T> {
    const args = ['rest', '--method', method, '--url', url];
    if (body !== undefined) args.push('--body', JSON.stringify(body));
    return this.json<T>(args);
  }

  /** Registers the cloud and logs in; returns the login output (the accounts the CLI found). */
  async login(): Promise<{ accounts: any[] }> {
    for (const args of cloudRegistrationArgs(this.options.armUrl)) {
      const r = await this.run(args);
      if (r.code !== 0) throw new Error(`az ${args.join(' ')}: ${r.stderr}`);
    }
    const accounts = await this.json<any[]>(['login', '--identity']);
    await this.detectPackagingDefects();
    return { accounts };
  }

  private async detectPackagingDefects(): Promise<void> {
    const [vm, role] = await Promise.all([
      this.run(['vm', 'show', '--resource-group', 'rg-probe', '--name', 'probe']),
      this.run(['role', 'definition', 'list', '--name', 'Reader', '--output', 'json']),
    ]);
    this.computeNeedsHybridProfile = COMPUTE_PACKAGING_DEFECT.test(vm.stderr);
    this.roleModuleBroken = ROLE_PACKAGING_DEFECT.test(role.stderr);
    if (this.computeNeedsHybridProfile) {
      cpSync(this.configDir, this.computeConfigDir, { recursive: true });
      const r = await this.run(['cloud', 'update', '--name', CLOUD_NAME, '--profile', '2020-09-01-hybrid'], { compute: true });
      if (r.code !== 0) throw new Error(`az cloud update --profile: ${r.stderr}`);
    }
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
