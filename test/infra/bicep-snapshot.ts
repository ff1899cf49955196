/**
 * Evaluates infra/main.bicep for given parameters without Azure: `bicep snapshot` (the Bicep CLI's local
 * deployment preview) expands every module, evaluates conditions, loops and names against a made-up
 * subscription, and lists the resources a deployment would create with their properties. Tests assert on
 * that list instead of on the compiled template's unevaluated expressions, and no what-if call is made.
 *
 * The Bicep CLI is the one scripts/bicep-check.sh fetches from NuGet (same version, same cache); without it
 * the tests skip with a notice, as bicep-check itself does where .NET is absent. Snapshots are cached by a
 * hash of infra/, the parameters and the CLI version, so an unchanged template costs nothing on a rerun.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');
const INFRA = join(REPO, 'infra');
const CACHE = join(REPO, 'node_modules', '.cache', 'bicep-snapshots');

export const SNAPSHOT_SUBSCRIPTION = '00000000-0000-0000-0000-0000000000a1';
export const SNAPSHOT_TENANT = '00000000-0000-0000-0000-0000000000b2';

export interface PredictedResource {
  id: string;
  type: string;
  name: string;
  location?: string;
  properties?: Record<string, any>;
  [key: string]: unknown;
}

export interface Snapshot {
  predictedResources: PredictedResource[];
  diagnostics: unknown[];
}

/** The version bicep-check.sh pins, read from the script so the two never drift apart. */
function pinnedVersion(): string {
  const script = readFileSync(join(REPO, 'scripts', 'bicep-check.sh'), 'utf8');
  const m = /BICEP_VERSION="\$\{BICEP_VERSION:-([0-9.]+)\}"/.exec(script);
  if (!m) throw new Error('scripts/bicep-check.sh: no BICEP_VERSION default found');
  return m[1]!;
}

function rid(): string | undefined {
  const arch = process.arch === 'x64' ? 'x64' : process.arch === 'arm64' ? 'arm64' : undefined;
  const os = process.platform === 'linux' ? 'linux' : process.platform === 'darwin' ? 'osx' : undefined;
  return arch && os ? `${os}-${arch}` : undefined;
}

/** The Bicep CLI path (BICEP, else the NuGet cache bicep-check.sh fills), or undefined when absent. */
export function bicepCli(): string | undefined {
  if (process.env.BICEP) return process.env.BICEP;
  const r = rid();
  if (!r) return undefined;
  const packages = process.env.NUGET_PACKAGES || join(homedir(), '.nuget', 'packages');
  const path = join(packages, `azure.bicep.commandline.${r}`, pinnedVersion(), 'tools', 'bicep');
  return existsSync(path) ? path : undefined;
}

function hashTree(dir: string, hash = createHash('sha256')): ReturnType<typeof createHash> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) hashTree(path, hash);
    else hash.update(`${path.slice(INFRA.length)}\0`).update(readFileSync(path));
  }
  return hash;
}

/** A bicepparam literal for a parameter value (strings, numbers and booleans are all the tests need). */
function literal(value: string | number | boolean): string {
  return typeof value === 'string' ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : String(value);
}

/** Runs `produce` in a copy of infra/ that holds the permissions file the example rules generate; caches its output. */
function cachedInInfraCopy(bicep: string, cacheKey: string, produce: (work: string) => string): string {
  const key = hashTree(INFRA)
    .update(cacheKey)
    .update(bicep)
    .update(readFileSync(join(REPO, 'config', 'rules.example.yaml')))
    .digest('hex');
  const cached = join(CACHE, `${key.slice(0, 32)}.json`);
  if (existsSync(cached)) return readFileSync(cached, 'utf8');
  // A copy, as bicep-check.sh checks one: the generated files never land in the working tree.
  const work = mkdtempSync(join(tmpdir(), 'bicep-snapshot-'));
  try {
    cpSync(INFRA, work, { recursive: true });
    const permissions = join(work, 'app-permissions.parameters.json');
    if (!existsSync(permissions)) {
      const params = [join(REPO, 'scripts', 'infra', 'params.ts'), join(REPO, 'config', 'rules.example.yaml'), '--out', permissions];
      const placeholderRole = ['--custom-role', 'Contoso App Config Reader=00000000-0000-0000-0000-00000000c0de', '--offline'];
      execFileSync(process.execPath, ['--import', 'tsx', ...params, ...placeholderRole], { cwd: REPO, stdio: 'pipe' });
    }
    const text = produce(work);
    mkdirSync(CACHE, { recursive: true });
    writeFileSync(cached, text);
    return text;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** main.bicep compiled to an ARM template (`bicep build`). */
export function buildMain(bicep: string): Record<string, any> {
  const text = cachedInInfraCopy(bicep, 'build', (work) =>
    execFileSync(bicep, ['build', join(work, 'main.bicep'), '--stdout'], { encoding: 'utf8' }),
  );
  return JSON.parse(text);
}

/**
 * The resources main.bicep would deploy with these parameters (environmentName and location default to
 * 'snap' and 'eastus'), for the permissions the example rules generate.
 */
export function snapshotMain(bicep: string, params: Record<string, string | number | boolean>): Snapshot {
  const all = { environmentName: 'snap', location: 'eastus', ...params };
  const paramText = ["using 'main.bicep'", ...Object.entries(all).map(([k, v]) => `param ${k} = ${literal(v)}`)].join('\n');
  const text = cachedInInfraCopy(bicep, paramText, (work) => {
    writeFileSync(join(work, 'snapshot.bicepparam'), `${paramText}\n`);
    const scope = ['--subscription-id', SNAPSHOT_SUBSCRIPTION, '--tenant-id', SNAPSHOT_TENANT, '--location', String(all.location)];
    execFileSync(bicep, ['snapshot', join(work, 'snapshot.bicepparam'), '--mode', 'overwrite', ...scope, '--deployment-name', 'snap'], {
      stdio: 'pipe',
    });
    return readFileSync(join(work, 'snapshot.snapshot.json'), 'utf8');
  });
  return JSON.parse(text);
}
