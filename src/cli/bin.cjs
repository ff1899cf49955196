#!/usr/bin/env node
// The `identity-autopilot` command.
//
// Which tree runs: the TypeScript sources (through tsx) whenever they are here and tsx is installed,
// that is in any checkout after `npm ci`; the compiled tree (dist/, from `npm run build`) only where
// there are no sources or no tsx (an install without dev dependencies), or when AUTOPILOT_CLI_COMPILED=1
// asks for it. Why not "dist/ when it exists", as before: `npm run build` (and `npm start`, which builds)
// leaves a dist/ that then shadowed the sources for good, so later edits in src/ were silently ignored,
// and tsc copies no assets, so `--sandbox` failed reading dist/src/sandbox/rules.yaml. The sources are
// always current and keep their assets beside them; the cost is tsx's start-up, about a second.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const sources = join(__dirname, 'main.ts');
const compiled = join(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

/** tsx, resolved from this checkout (a dev dependency). */
function tsxAvailable() {
  try {
    require.resolve('tsx/cjs');
    return true;
  } catch {
    return false;
  }
}

function loadCli() {
  const wantCompiled = process.env.AUTOPILOT_CLI_COMPILED === '1';
  if (!wantCompiled && existsSync(sources) && tsxAvailable()) {
    require('tsx/cjs');
    return require(sources);
  }
  if (existsSync(compiled)) return require(compiled);
  process.stderr.write(
    wantCompiled
      ? `ERROR: AUTOPILOT_CLI_COMPILED=1 but ${compiled} does not exist: run 'npm run build' first\n`
      : "ERROR: neither tsx (run 'npm ci') nor the compiled CLI (run 'npm run build') is available\n",
  );
  process.exit(1);
}

loadCli()
  .runCli(process.argv.slice(2))
  .then((code) => process.exit(code));
