// Builds the vendored Azure Functions Node.js worker (test/functions-host/worker, see its
// PROVENANCE.md) from source into a gitignored cache folder, once per change of its sources or of
// the lock file. The product never imports any of this: only the worker tests start it.
//
// What the worker's own `npm run build` does (its package.json "build" and scripts/generateProtos.js):
// `pbjs -t json-module -w commonjs` over the three .proto files into
// azure-functions-language-worker-protobuf/src/rpc.js, copied beside dist/, then `tsc`. Here:
// - pbjs is run the same way, with `-p <proto root>` because today's protobufjs-cli resolves the
//   imports (`shared/NullableTypes.proto`) from the root (docs/testing-without-azure.md);
// - the TypeScript is transpiled file by file with the typescript package's transpileModule and the
//   worker's own compiler options (commonjs, es6). Type-checking the worker is not our job (its types
//   need the `pbts` declarations and @types packages we do not install); emitting is what its build
//   does too, since tsc emits despite type errors;
// - the worker's default programming model, `require('@azure/functions')` in setupCoreModule.ts,
//   is the v3 library it ships with (its package.json: "@azure/functions": "^3.5.0"). It is installed
//   as the devDependency alias `@azure/functions-worker-default-model` and linked into the build's
//   own node_modules, so the worker finds v3 while the app finds its own v4.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { cachedBuild, filesUnder, REPO_ROOT } from './build-cache';

const VENDOR = join(__dirname, 'worker');
/** Gitignored: test/functions-host/.worker-build/ */
export const WORKER_BUILD = join(__dirname, '.worker-build');
const PROTO_ROOT = join(VENDOR, 'azure-functions-language-worker-protobuf', 'src', 'proto');
export const PROTO_FILES = ['shared/NullableTypes.proto', 'identity/ClaimsIdentityRpc.proto', 'FunctionRpc.proto'].map((f) => join(PROTO_ROOT, f));
export { PROTO_ROOT };

/** The worker's entry point as the host starts it (worker.config.json: defaultWorkerPath). */
export function workerEntryPoint(root = WORKER_BUILD): string {
  return join(root, 'dist', 'src', 'nodejsWorker.js');
}

function build(out: string): void {
  const protoOut = join(out, 'dist', 'azure-functions-language-worker-protobuf', 'src', 'rpc.js');
  mkdirSync(dirname(protoOut), { recursive: true });
  execFileSync(process.execPath, [require.resolve('protobufjs-cli/bin/pbjs'), '-t', 'json-module', '-w', 'commonjs', '-p', PROTO_ROOT, '-o', protoOut, ...PROTO_FILES], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const compilerOptions: ts.CompilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2015, sourceMap: false };
  for (const file of filesUnder(join(VENDOR, 'src')).filter((f) => f.endsWith('.ts'))) {
    const js = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file }).outputText;
    const target = join(out, 'dist', relative(VENDOR, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
  }
  for (const meta of ['package.json', 'worker.config.json']) writeFileSync(join(out, meta), readFileSync(join(VENDOR, meta)));
  const defaultModel = dirname(require.resolve('@azure/functions-worker-default-model/package.json'));
  mkdirSync(join(out, 'node_modules', '@azure'), { recursive: true });
  symlinkSync(defaultModel, join(out, 'node_modules', '@azure', 'functions'), 'dir');
}

/** Returns the built worker's entry point, building it first when the cache is missing or stale. */
export function ensureWorkerBuilt(): string {
  cachedBuild(WORKER_BUILD, [...filesUnder(VENDOR), join(REPO_ROOT, 'package-lock.json'), __filename], build);
  return workerEntryPoint();
}

if (require.main === module) {
  const started = Date.now();
  console.log(`${ensureWorkerBuilt()} (${Date.now() - started} ms)`);
}
