/**
 * The deployable package (scripts/build/package.mjs): one bundle with every dependency in it, no test
 * code, no emulator, no dev dependency, and it starts on its own, outside the repository.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';

const REPO = join(__dirname, '../..');
const SCRIPT = join(REPO, 'scripts/build/package.mjs');
const BUNDLE = 'dist/src/functions/index.js';
const RUNTIME = 'dist/src/functions/runtime.js';

/** Names that only exist in tools/arm-emulator, test/support and the dev dependencies. */
const FORBIDDEN_STRINGS = [
  'ArmEmulator',
  'EmulatorState',
  'LiveValidator',
  'oav',
  'selfsigned',
  'azurite',
  'startArmEmulator',
  'useEmulator',
  'TokenAuthority',
  'tools/arm-emulator',
  'test/emulator',
  'test/support',
];

function files(dir: string, base = dir): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path, base) : [relative(base, path).split(sep).join('/')];
    })
    .sort();
}

/** A minimal environment: nothing from the test process (no emulator identity endpoint, no NODE_OPTIONS with tsx). */
function bareEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...extra };
}

describe('deployable package', () => {
  let out: string;
  let root: string;
  let bundle: string;

  before(() => {
    out = mkdtempSync(join(tmpdir(), 'autopilot-package-'));
    const r = spawnSync(process.execPath, [SCRIPT, '--out', out, '--rules', join(REPO, 'config/rules.example.yaml')], {
      encoding: 'utf8',
      cwd: REPO,
    });
    assert.equal(r.status, 0, `package.mjs failed:\n${r.stdout}\n${r.stderr}`);
    root = join(out, 'package');
    bundle = join(root, BUNDLE);
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('holds exactly the app: host.json, a dependency-free package.json, the stamped rules, the entry and the runtime bundle', (t) => {
    assert.deepEqual(files(root), ['config/rules.yaml', 'config/rules.yaml.sha256', BUNDLE, RUNTIME, 'host.json', 'package.json']);
    const digest = createHash('sha256')
      .update(readFileSync(join(root, 'config/rules.yaml')))
      .digest('hex');
    assert.equal(
      readFileSync(join(root, 'config/rules.yaml.sha256'), 'utf8').trim(),
      digest,
      'the stamp is the digest of the validated rules',
    );
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.equal(manifest.main, BUNDLE);
    assert.equal(manifest.dependencies, undefined);
    assert.equal(manifest.devDependencies, undefined);
    assert.equal(readFileSync(join(root, 'config/rules.yaml'), 'utf8'), readFileSync(join(REPO, 'config/rules.example.yaml'), 'utf8'));
    assert.deepEqual(JSON.parse(readFileSync(join(root, 'host.json'), 'utf8')), JSON.parse(readFileSync(join(REPO, 'host.json'), 'utf8')));
    const bundleBytes = statSync(bundle).size;
    const zipBytes = statSync(join(out, 'package.zip')).size;
    t.diagnostic(`bundle ${(bundleBytes / 1024).toFixed(0)} KiB, package.zip ${(zipBytes / 1024).toFixed(0)} KiB`);
    console.log(
      `# package size: bundle ${bundleBytes} bytes (${(bundleBytes / 1024).toFixed(0)} KiB), package.zip ${zipBytes} bytes (${(zipBytes / 1024).toFixed(0)} KiB)`,
    );
    // A guard against a dependency blow-up (oav alone would add megabytes), not a target.
    assert.ok(bundleBytes < 4 * 1024 * 1024, `bundle is ${bundleBytes} bytes`);
    assert.ok(statSync(join(out, 'sourcemaps/index.js.map')).size > 0, 'the source map is kept, outside the package');
  });

  it('contains no test code, no emulator and no dev dependency', () => {
    const text = readFileSync(bundle, 'utf8') + readFileSync(join(root, RUNTIME), 'utf8');
    for (const s of FORBIDDEN_STRINGS) assert.ok(!text.includes(s), `the bundle contains '${s}'`);
    assert.ok(!text.includes('sourceMappingURL'), 'the map is external: no reference to it in the bundle');
    // Only Node built-ins and the host-provided @azure/functions-core are left to `require` at run time
    // (ajv's `require("ajv/dist/runtime/...")` strings are code it generates for standalone mode, never run).
    const required = new Set([...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!));
    const builtins = new Set(require('node:module').builtinModules as string[]);
    const nonBuiltin = [...required].filter((m) => !builtins.has(m.replace(/^node:/, '')) && !m.startsWith('ajv/dist/runtime/'));
    // ...and the entry's lazy require of the runtime bundle beside it.
    assert.deepEqual(nonBuiltin.sort(), ['./runtime.js', '@azure/functions-core']);
  });

  it('starts without loading the runtime bundle when the rules match their stamp, and validates an edited file in full', () => {
    const script = `require(${JSON.stringify(bundle)}); console.log('RUNTIME_LOADED=' + Object.keys(require.cache).some((k) => k.endsWith('runtime.js')))`;
    const run = (rulesPath: string) =>
      spawnSync(process.execPath, ['-e', script], { cwd: tmpdir(), encoding: 'utf8', env: bareEnv({ AUTOPILOT_RULES_PATH: rulesPath }) });
    const stamped = run('config/rules.yaml');
    assert.equal(stamped.status, 0, stamped.stderr.slice(-1000));
    assert.match(stamped.stdout, /RUNTIME_LOADED=false/);
    // Edited after packaging: the digest no longer matches, so start-up validates it, and a bad edit stops start-up.
    writeFileSync(
      join(root, 'config/edited.yaml'),
      readFileSync(join(root, 'config/rules.yaml'), 'utf8').replace('scope:', 'scope:\n  bogusKey: 1'),
    );
    const edited = run('config/edited.yaml');
    assert.notEqual(edited.status, 0);
    assert.match(edited.stderr, /scope: unknown key 'bogusKey'/);
    rmSync(join(root, 'config/edited.yaml'));
  });

  it('loads in a bare Node process outside the repository and reads its rules relative to the package', () => {
    const load = (rulesPath: string) =>
      spawnSync(process.execPath, ['-e', `require(${JSON.stringify(bundle)}); console.log('LOADED')`], {
        cwd: tmpdir(),
        encoding: 'utf8',
        env: bareEnv({ AUTOPILOT_RULES_PATH: rulesPath }),
      });
    const ok = load('config/rules.yaml');
    assert.equal(ok.status, 0, ok.stderr.slice(0, 2000));
    assert.match(ok.stdout, /LOADED/);
    // Outside the Functions host @azure/functions registers nothing and says so: expected.
    assert.match(ok.stderr, /test mode/);
    // A wrong path fails start-up, naming the file under the package root: the relative path is resolved there.
    const bad = load('config/missing.yaml');
    assert.notEqual(bad.status, 0);
    assert.ok(bad.stderr.includes(join(root, 'config', 'missing.yaml')), bad.stderr.slice(-1000));
  });

  it('package.zip holds the same files, readable by unzip', (t) => {
    const zip = join(out, 'package.zip');
    const listing = spawnSync('unzip', ['-Z1', zip], { encoding: 'utf8' });
    if (listing.error) {
      t.skip('unzip not installed');
      return;
    }
    assert.equal(listing.status, 0, listing.stderr);
    assert.deepEqual(listing.stdout.trim().split('\n').sort(), files(root));
    const check = spawnSync('unzip', ['-tq', zip], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const extracted = spawnSync('unzip', ['-p', zip, BUNDLE], { maxBuffer: 64 * 1024 * 1024 });
    assert.ok(Buffer.compare(extracted.stdout, readFileSync(bundle)) === 0, 'the zipped bundle is byte-identical');
  });

  it('is reproducible: the same sources give the same bundle and zip', () => {
    const again = mkdtempSync(join(tmpdir(), 'autopilot-package-'));
    try {
      const r = spawnSync(process.execPath, [SCRIPT, '--out', again, '--rules', join(REPO, 'config/rules.example.yaml'), '--quiet'], {
        encoding: 'utf8',
        cwd: REPO,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(readFileSync(join(again, 'package', BUNDLE)).equals(readFileSync(bundle)));
      assert.ok(readFileSync(join(again, 'package.zip')).equals(readFileSync(join(out, 'package.zip'))));
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });
});
