/**
 * Cold start: how long a fresh Node process takes to load the packaged app's entry, against a bare
 * @azure/functions hello-world (one require, one app.http registration) bundled the same way.
 *
 *   npx tsx bench/cold-start.ts [--runs 15] [--keep DIR]
 *
 * Both are built here with the same esbuild settings as the deployment package (scripts/build/package.mjs:
 * CommonJS, node20, minified, every dependency inside, @azure/functions-core external), then each is
 * loaded N times by `node -e "require(<bundle>)"`, alternating app / hello-world, in a bare environment
 * (outside the Functions host, so @azure/functions stays in test mode in both). Per run it records the
 * whole process wall time (spawn to exit) and, inside the process, the time `require()` took.
 * Prints medians, the ratio app / hello-world, and the conditions.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const REPO = join(__dirname, '..');
const TARGET_RATIO = 1.5;

interface Sample {
  wallMs: number;
  requireMs: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const HELLO_SOURCE = `
const { app } = require('@azure/functions');
app.http('hello', {
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async () => ({ body: 'hello' }),
});
`;

export async function buildHello(dir: string): Promise<string> {
  const esbuild = createRequire(join(REPO, 'package.json'))('esbuild');
  const outfile = join(dir, 'hello', 'index.js');
  mkdirSync(join(dir, 'hello'), { recursive: true });
  await esbuild.build({
    stdin: { contents: HELLO_SOURCE, resolveDir: REPO, sourcefile: 'hello.js', loader: 'js' },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    external: ['@azure/functions-core'],
    logLevel: 'warning',
  });
  return outfile;
}

/** One cold process: spawn, require, exit. */
function coldLoad(bundle: string, env: NodeJS.ProcessEnv, alsoRequire?: string): Sample {
  const extra = alsoRequire ? `require(${JSON.stringify(alsoRequire)});` : '';
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(bundle)});${extra}process.stdout.write('REQUIRE_NS='+(process.hrtime.bigint()-t));`;
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-e', script], { cwd: tmpdir(), env, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const m = /REQUIRE_NS=(\d+)/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`loading ${bundle} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  return { wallMs, requireMs: Number(m[1]) / 1e6 };
}

async function main(): Promise<void> {
  const runs = Number(arg('--runs') ?? 15);
  const keep = arg('--keep');
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'autopilot-cold-start-'));
  try {
    const { buildPackage } = (await import(pathToFileURL(join(REPO, 'scripts/build/package.mjs')).href)) as {
      buildPackage(o: {
        out: string;
        zip?: boolean;
        quiet?: boolean;
        rules?: string;
      }): Promise<{ bundle: string; bundleBytes: number; runtimeBundle: string; runtimeBytes: number; root: string; rules: string }>;
    };
    const pkg = await buildPackage({ out: dir, zip: false, quiet: true });
    const hello = await buildHello(dir);
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), AUTOPILOT_RULES_PATH: 'config/rules.yaml' };
    const empty = join(dir, 'empty.js');
    writeFileSync(empty, '');

    // One warm-up each (file system cache), not counted.
    coldLoad(pkg.bundle, env);
    coldLoad(hello, env);
    coldLoad(empty, env);
    const samples = { app: [] as Sample[], hello: [] as Sample[], node: [] as Sample[] };
    for (let i = 0; i < runs; i++) {
      // Alternate the order so drift (thermal, other load) hits both alike.
      const order = i % 2 === 0 ? (['app', 'hello', 'node'] as const) : (['hello', 'app', 'node'] as const);
      for (const which of order) samples[which].push(coldLoad(which === 'app' ? pkg.bundle : which === 'hello' ? hello : empty, env));
    }

    // What start-up defers: the runtime bundle, loaded on the first invocation; and the start-up of a
    // rules file edited after packaging (no matching stamp: validated in full at start-up).
    const firstCall: Sample[] = [];
    const unstamped: Sample[] = [];
    const edited = join(pkg.root, 'config', 'edited-rules.yaml');
    writeFileSync(edited, `${readFileSync(join(pkg.root, 'config', 'rules.yaml'), 'utf8')}\n# edited after packaging\n`);
    for (let i = 0; i < Math.min(runs, 7); i++) {
      firstCall.push(coldLoad(pkg.bundle, env, pkg.runtimeBundle));
      unstamped.push(coldLoad(pkg.bundle, { ...env, AUTOPILOT_RULES_PATH: 'config/edited-rules.yaml' }));
    }

    const med = (list: Sample[], k: keyof Sample) => median(list.map((s) => s[k]));
    const appWall = med(samples.app, 'wallMs');
    const helloWall = med(samples.hello, 'wallMs');
    const nodeWall = med(samples.node, 'wallMs');
    const appReq = med(samples.app, 'requireMs');
    const helloReq = med(samples.hello, 'requireMs');
    const ratio = appWall / helloWall;
    const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
    const lines = [
      `cold start, ${runs} runs each (alternating, after 1 warm-up), node ${process.version}, ${process.platform}/${process.arch}, ${cpus()[0]?.model ?? '?'} x${cpus().length}`,
      `  app         ${kib(pkg.bundleBytes).padStart(9)}  process median ${appWall.toFixed(1).padStart(7)} ms   require() median ${appReq.toFixed(1).padStart(7)} ms`,
      `  hello-world ${kib(statSync(hello).size).padStart(9)}  process median ${helloWall.toFixed(1).padStart(7)} ms   require() median ${helloReq.toFixed(1).padStart(7)} ms`,
      `  empty node  ${''.padStart(9)}  process median ${nodeWall.toFixed(1).padStart(7)} ms`,
      `  ratio app / hello-world: process ${ratio.toFixed(2)}x, require() ${(appReq / helloReq).toFixed(2)}x (target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'})`,
      `  deferred to the first invocation: runtime bundle ${kib(pkg.runtimeBytes)}, entry + runtime process median ${med(firstCall, 'wallMs').toFixed(1)} ms`,
      `  rules file edited after packaging (validated in full at start-up): process median ${med(unstamped, 'wallMs').toFixed(1)} ms`,
      `  both bundled by esbuild (cjs, node20, minified, @azure/functions-core external), loaded with AUTOPILOT_RULES_PATH=config/rules.yaml (${pkg.rules.replace(`${REPO}/`, '')})`,
    ];
    console.log(lines.join('\n'));
    if (process.argv.includes('--json')) console.log(JSON.stringify({ runs, node: process.version, samples }, null, 2));
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
