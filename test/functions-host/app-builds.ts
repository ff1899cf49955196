// The two forms of the app the Functions host tests load (app-host.ts), each cached (build-cache.ts):
// - the package `npm run build:package` makes (scripts/build/package.mjs: the esbuild bundle, host.json,
//   a dependency-free package.json), which is what is deployed;
// - the `npm run build` output (tsc of src/), with a package.json whose "main" is the repository's and
//   the repository's node_modules above it, as `func start` runs the app from a clone.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cachedBuild, filesUnder, REPO_ROOT } from './build-cache';

const SOURCES = (): string[] => [
  ...filesUnder(join(REPO_ROOT, 'src')),
  ...['package.json', 'package-lock.json', 'tsconfig.json', 'host.json'].map((f) => join(REPO_ROOT, f)),
  __filename,
];

export const PACKAGE_BUILD = join(__dirname, '.app-package');
export const SOURCE_BUILD = join(__dirname, '.app-build');

/** The deployed package's app root (host.json, package.json, dist/src/functions/index.js). */
export function packagedApp(): string {
  cachedBuild(
    PACKAGE_BUILD,
    [...SOURCES(), ...filesUnder(join(REPO_ROOT, 'scripts', 'build')), ...filesUnder(join(REPO_ROOT, 'config'))],
    (out) => {
      execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build', 'package.mjs'), '--out', out, '--no-zip', '--quiet'], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    },
  );
  return join(PACKAGE_BUILD, 'package');
}

/** The tsc build of src/ with the repository's compiler options, as an app root. */
export function sourceApp(): string {
  cachedBuild(SOURCE_BUILD, SOURCES(), (out) => {
    mkdirSync(out, { recursive: true });
    const tsconfig = join(out, 'tsconfig.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: join(REPO_ROOT, 'tsconfig.json'),
        compilerOptions: { rootDir: REPO_ROOT, outDir: join(out, 'dist'), sourceMap: false },
        include: [join(REPO_ROOT, 'src/**/*.ts'), join(REPO_ROOT, 'src/**/*.json')],
        exclude: [],
      }),
    );
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', tsconfig], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const main = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).main as string;
    writeFileSync(join(out, 'package.json'), JSON.stringify({ name: 'identity-autopilot', private: true, main }));
    copyFileSync(join(REPO_ROOT, 'host.json'), join(out, 'host.json'));
  });
  return SOURCE_BUILD;
}
