#!/usr/bin/env node
// The `identity-autopilot` command. Runs the compiled CLI when `npm run build` has produced it;
// otherwise loads the TypeScript sources through tsx (a clone with `npm ci` has it).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const compiled = join(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
let cli;
if (existsSync(compiled)) {
  cli = require(compiled);
} else {
  require('tsx/cjs');
  cli = require('./main.ts');
}
cli.runCli(process.argv.slice(2)).then((code) => process.exit(code));
