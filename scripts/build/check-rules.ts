/**
 * Validates a rules file as the app does at start-up and prints its SHA-256 digest, which the package
 * build stamps beside the file (see src/config/validation-stamp.ts). Exits 1 with the key path and
 * reason on a bad file, so a bad file never gets packaged.
 */
import { readFileSync } from 'node:fs';
import { loadRulesFile } from '../../src/config/load';
import { rulesFileDigest } from '../../src/config/validation-stamp';

const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: check-rules.ts <rules.yaml>\n');
  process.exit(2);
}
try {
  for (const w of loadRulesFile(path).warnings ?? []) process.stderr.write(`warning: ${path}: ${w.keyPath}: ${w.reason}\n`);
  process.stdout.write(`${rulesFileDigest(readFileSync(path))}\n`);
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
