#!/usr/bin/env node
// Builds the deployable Functions package: one esbuild bundle of src/functions/index.ts with every
// dependency inside it, plus host.json, a dependency-free package.json and the rules file.
//
//   node scripts/build/package.mjs [--out DIR] [--rules FILE] [--no-zip] [--quiet]
//
// Output (DIR defaults to dist/):
//   DIR/package/                     the app root azd / `func azure functionapp publish` deploy
//     host.json
//     package.json                   { "main": "dist/src/functions/index.js" }, no dependencies
//     config/rules.yaml              the rules the app reads (AUTOPILOT_RULES_PATH=config/rules.yaml)
//     dist/src/functions/index.js    the bundle (CommonJS, node20, minified)
//   DIR/sourcemaps/index.js.map      its source map, kept out of the deployed package
//   DIR/package.zip                  the same folder as a zip (zip deploy / Flex Consumption blob)
//
// The bundle sits at dist/src/functions/ (the layout `tsc` produces) on purpose: src/app/composition.ts
// finds the app root from __dirname, and from that folder it resolves to the package root.
//
// Rules file: --rules FILE, else config/rules.yaml, else config/rules.example.yaml (with a warning),
// always written as config/rules.yaml. scripts/infra/params.ts picks the same file, so the deployed
// rules and the app identity's permissions come from the same source.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, crc32 as zlibCrc32 } from 'node:zlib';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = join(REPO, 'src', 'functions', 'index.ts');
/** The handlers, engine and Azure SDKs: a second bundle, loaded by the entry on first invocation. */
const RUNTIME_ENTRY = join(REPO, 'src', 'functions', 'runtime.ts');
export const BUNDLE_PATH = join('dist', 'src', 'functions', 'index.js');
export const RUNTIME_BUNDLE_PATH = join('dist', 'src', 'functions', 'runtime.js');

/**
 * Keeps the entry's lazy `require('./runtime')` a require of the runtime bundle beside it, instead of
 * inlining it: the point of the split is that start-up neither parses nor runs the Azure SDKs.
 */
const runtimeAsSibling = {
  name: 'runtime-as-sibling',
  setup(build) {
    build.onResolve({ filter: /^\.\/runtime$/ }, (args) =>
      args.importer === ENTRY ? { path: './runtime.js', external: true } : undefined,
    );
  },
};

/**
 * Modules the bundle must not contain: `@azure/functions-core` is injected by the Functions host's
 * Node worker at run time (outside the host, @azure/functions falls back to test mode); the rest are
 * test and dev tooling, listed so that an accidental import fails the build instead of shipping.
 */
const HOST_PROVIDED = ['@azure/functions-core'];
const FORBIDDEN = ['oav', 'selfsigned', 'azurite', 'tsx', 'typescript', 'esbuild', '@kusto/language-service-next'];

/**
 * Resolves every bare `import` as if it were `require()`: the TypeScript sources use `import`, which
 * would make esbuild pick packages' ESM builds (`exports` "import" condition). Under `tsc` the app is
 * CommonJS and Node loads their CommonJS builds; so must the bundle. It also keeps `import.meta.url`
 * (meaningless in a CommonJS bundle; @azure/storage-common's ESM build calls createRequire on it) out.
 */
const requireConditions = {
  name: 'resolve-as-require',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== 'import-statement' && args.kind !== 'dynamic-import') return undefined;
      if (args.path.startsWith('node:') || HOST_PROVIDED.includes(args.path)) return undefined;
      const result = await build.resolve(args.path, { kind: 'require-call', resolveDir: args.resolveDir, importer: args.importer });
      return result.errors.length > 0 ? { errors: result.errors } : result;
    });
  },
};

function parseArgs(argv) {
  const options = { out: join(REPO, 'dist'), rules: undefined, zip: true, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') options.out = resolve(argv[++i]);
    else if (a === '--rules') options.rules = resolve(argv[++i]);
    else if (a === '--no-zip') options.zip = false;
    else if (a === '--quiet') options.quiet = true;
    else throw new Error(`unknown argument '${a}' (use --out DIR, --rules FILE, --no-zip, --quiet)`);
  }
  return options;
}

function pickRules(explicit, log) {
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`rules file ${explicit} does not exist`);
    return explicit;
  }
  const own = join(REPO, 'config', 'rules.yaml');
  if (existsSync(own)) return own;
  log('warning: config/rules.yaml not found; packaging config/rules.example.yaml as config/rules.yaml');
  return join(REPO, 'config', 'rules.example.yaml');
}

/** Fails the build when a dev/test-only module or a test file ends up in the bundle. */
function checkInputs(metafile) {
  const problems = [];
  for (const input of Object.keys(metafile.inputs)) {
    const normalized = input.split(sep).join('/');
    if (/(^|\/)test\//.test(normalized) && !normalized.includes('node_modules/')) problems.push(`test code: ${input}`);
    for (const name of FORBIDDEN) if (normalized.includes(`node_modules/${name}/`)) problems.push(`dev dependency ${name}: ${input}`);
  }
  if (problems.length > 0) throw new Error(`the bundle must hold no test code or dev dependency:\n  ${problems.join('\n  ')}`);
}

// --- a minimal zip writer (deflate, no zip64), so packaging needs neither `zip` nor a dependency ---

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  if (typeof zlibCrc32 === 'function') return zlibCrc32(buf) >>> 0;
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function listFiles(dir, base = dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? listFiles(path, base) : [relative(base, path).split(sep).join('/')];
    });
}

/** Writes `dir`'s files into a zip; fixed timestamps so the same input gives the same bytes. */
export function zipDirectory(dir, zipPath) {
  const local = [];
  const central = [];
  let offset = 0;
  const DOS_TIME = 0; // 00:00:00
  const DOS_DATE = ((2020 - 1980) << 9) | (1 << 5) | 1; // 2020-01-01
  for (const name of listFiles(dir)) {
    const data = readFileSync(join(dir, name));
    const deflated = deflateRawSync(data, { level: 9 });
    const stored = deflated.length >= data.length;
    const body = stored ? data : deflated;
    const nameBuf = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(0x0800, 6); // UTF-8 names
    header.writeUInt16LE(stored ? 0 : 8, 8);
    header.writeUInt16LE(DOS_TIME, 10);
    header.writeUInt16LE(DOS_DATE, 12);
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(body.length, 18);
    header.writeUInt32LE(data.length, 22);
    header.writeUInt16LE(nameBuf.length, 26);
    header.writeUInt16LE(0, 28);
    local.push(header, nameBuf, body);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(0x031e, 4); // made by: Unix, spec 3.0
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x0800, 8);
    entry.writeUInt16LE(stored ? 0 : 8, 10);
    entry.writeUInt16LE(DOS_TIME, 12);
    entry.writeUInt16LE(DOS_DATE, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(body.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBuf.length, 28);
    entry.writeUInt32LE((0o100644 << 16) >>> 0, 38); // -rw-r--r--
    entry.writeUInt32LE(offset, 42);
    central.push(entry, nameBuf);
    offset += header.length + nameBuf.length + body.length;
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length / 2, 8);
  end.writeUInt16LE(central.length / 2, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  writeFileSync(zipPath, Buffer.concat([...local, ...central, end]));
}

/** Builds the package; returns paths and sizes (used by test/infra/package.test.ts and the benchmark). */
export async function buildPackage(input = {}) {
  const options = { out: join(REPO, 'dist'), zip: true, quiet: false, ...input };
  const log = options.quiet ? () => {} : (m) => console.log(m);
  const require = createRequire(join(REPO, 'package.json'));
  const esbuild = require('esbuild');
  const root = join(options.out, 'package');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'config'), { recursive: true });
  const bundle = join(root, BUNDLE_PATH);
  const mapDir = join(options.out, 'sourcemaps');
  mkdirSync(mapDir, { recursive: true });

  const started = Date.now();
  const result = await esbuild.build({
    absWorkingDir: REPO,
    entryPoints: { index: ENTRY, runtime: RUNTIME_ENTRY },
    outdir: dirname(bundle),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    // Short lines: Node prints the whole source line of an uncaught error's throw site before the message,
    // and one minified line holding the SDKs would push a bad rules file's message out of sight.
    lineLimit: 500,
    keepNames: true, // error class names (ArmCallError, RulesError...) stay readable in logs
    sourcemap: 'external',
    sourcesContent: false,
    legalComments: 'none',
    external: HOST_PROVIDED,
    // Dependencies that ship ESM and CJS: take the CommonJS build, as `require` at run time would.
    mainFields: ['main', 'module'],
    plugins: [runtimeAsSibling, requireConditions],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
    metafile: true,
  });
  checkInputs(result.metafile);
  // Keep the map next to, not inside, what gets deployed.
  for (const name of ['index', 'runtime']) {
    const mapSource = join(dirname(bundle), `${name}.js.map`);
    copyFileSync(mapSource, join(mapDir, `${name}.js.map`));
    rmSync(mapSource);
  }

  const rulesSource = pickRules(options.rules, log);
  copyFileSync(rulesSource, join(root, 'config', 'rules.yaml'));
  // Validate the rules now and stamp their digest: start-up then only compares digests (a bad file
  // fails the build here, with its key path and reason).
  const check = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'scripts', 'build', 'check-rules.ts'), join(root, 'config', 'rules.yaml')],
    { cwd: REPO, encoding: 'utf8' },
  );
  if (check.status !== 0) throw new Error(`the rules file ${relative(REPO, rulesSource)} is invalid: ${check.stderr.trim()}`);
  writeFileSync(join(root, 'config', 'rules.yaml.sha256'), check.stdout);
  copyFileSync(join(REPO, 'host.json'), join(root, 'host.json'));
  const own = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  const manifest = {
    name: own.name,
    version: own.version,
    private: true,
    description: `${own.description} (bundled: every dependency is inside ${BUNDLE_PATH})`,
    license: own.license,
    main: BUNDLE_PATH.split(sep).join('/'),
    engines: own.engines,
  };
  writeFileSync(join(root, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  let zipPath;
  if (options.zip) {
    zipPath = join(options.out, 'package.zip');
    zipDirectory(root, zipPath);
  }
  const bundleBytes = statSync(bundle).size;
  const runtimeBundle = join(root, RUNTIME_BUNDLE_PATH);
  const summary = {
    root,
    bundle,
    runtimeBundle,
    runtimeBytes: statSync(runtimeBundle).size,
    zip: zipPath,
    rules: rulesSource,
    bundleBytes,
    zipBytes: zipPath ? statSync(zipPath).size : undefined,
    inputs: Object.keys(result.metafile.inputs).length,
    sha256: createHash('sha256').update(readFileSync(bundle)).digest('hex'),
    ms: Date.now() - started,
  };
  log(
    `packaged ${relative(process.cwd(), root) || '.'}: entry ${(bundleBytes / 1024).toFixed(0)} KiB + runtime ${(summary.runtimeBytes / 1024).toFixed(0)} KiB from ${summary.inputs} modules` +
      (zipPath ? `, ${relative(process.cwd(), zipPath)} ${(summary.zipBytes / 1024).toFixed(0)} KiB` : '') +
      `, rules from ${relative(REPO, rulesSource)} (${summary.ms} ms)`,
  );
  return summary;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildPackage(parseArgs(process.argv.slice(2))).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
