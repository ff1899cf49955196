/**
 * Cold start under the real Azure Functions Node.js worker (test/functions-host): time from spawning
 * the worker process to its FunctionsMetadataResponse (StartStream, WorkerInitRequest: the app's entry
 * loaded, then worker indexing), for the deployed package against a bare @azure/functions hello-world
 * (one app.http registration, bundled the same way, see bench/cold-start.ts), served from the same kind
 * of app root (host.json, package.json "main").
 *
 *   npx tsx bench/worker-cold-start.ts [--runs 9]
 *
 * Runs alternate app / hello-world after one warm-up each. Prints medians and the ratio.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagedApp } from '../test/functions-host/app-builds';
import { FunctionsHost } from '../test/functions-host/host';
import { buildHello, median } from './cold-start';

const TARGET_RATIO = 1.5;

async function coldStart(appDir: string, env: Record<string, string>): Promise<{ metadataMs: number; initMs: number; functions: number }> {
  const host = await FunctionsHost.start({ appDir, env, timeoutMs: 60_000 });
  try {
    const metadata = await host.functionsMetadata();
    if (metadata.result.status !== 1) throw new Error(`indexing failed: ${JSON.stringify(metadata.result)}`);
    return { metadataMs: host.timings.functionMetadataResponse!, initMs: host.timings.workerInitResponse!, functions: metadata.functionMetadataResults.length };
  } finally {
    await host.close();
  }
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--runs');
  const runs = i >= 0 ? Number(process.argv[i + 1]) : 9;
  const dir = mkdtempSync(join(tmpdir(), 'autopilot-worker-cold-start-'));
  try {
    const app = packagedApp();
    const helloBundle = await buildHello(dir);
    // An app root for the hello-world: its bundle at dist/src/functions/index.js like the package's.
    const hello = join(dir, 'hello-root');
    mkdirSync(join(hello, 'dist', 'src', 'functions'), { recursive: true });
    writeFileSync(join(hello, 'dist', 'src', 'functions', 'index.js'), (await import('node:fs')).readFileSync(helloBundle));
    writeFileSync(join(hello, 'package.json'), JSON.stringify({ name: 'hello', main: 'dist/src/functions/index.js' }));
    writeFileSync(join(hello, 'host.json'), JSON.stringify({ version: '2.0' }));
    const env = { AUTOPILOT_RULES_PATH: 'config/rules.yaml' };

    await coldStart(app, env);
    await coldStart(hello, env);
    const samples = { app: [] as Awaited<ReturnType<typeof coldStart>>[], hello: [] as Awaited<ReturnType<typeof coldStart>>[] };
    for (let r = 0; r < runs; r++) {
      const order = r % 2 === 0 ? (['app', 'hello'] as const) : (['hello', 'app'] as const);
      for (const which of order) samples[which].push(await coldStart(which === 'app' ? app : hello, env));
    }
    const med = (k: 'app' | 'hello', f: 'metadataMs' | 'initMs') => median(samples[k].map((s) => s[f]));
    const ratio = med('app', 'metadataMs') / med('hello', 'metadataMs');
    console.log(
      [
        `worker cold start, ${runs} runs each (alternating, after 1 warm-up), node ${process.version}, ${cpus()[0]?.model ?? '?'} x${cpus().length}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
        `  app (package, ${samples.app[0]!.functions} functions)    spawn -> WorkerInitResponse ${med('app', 'initMs').toFixed(0)} ms, -> FunctionsMetadataResponse ${med('app', 'metadataMs').toFixed(0)} ms`,
        `  hello-world (1 function)      spawn -> WorkerInitResponse ${med('hello', 'initMs').toFixed(0)} ms, -> FunctionsMetadataResponse ${med('hello', 'metadataMs').toFixed(0)} ms`,
        `  ratio app / hello-world (to FunctionsMetadataResponse): ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'})`,
        `  all: app ${samples.app.map((s) => s.metadataMs.toFixed(0)).join(' ')} | hello ${samples.hello.map((s) => s.metadataMs.toFixed(0)).join(' ')}`,
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
