/** Prints the spec coverage the test files left in a directory (called by scripts/run-tests.mjs). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { coverageLine } from './spec-validation';

const dir = process.argv[2]!;
const merged = new Map<string, { checked: number; total: number }>();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  for (const [operation, c] of Object.entries(
    JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, { checked: number; total: number }>,
  )) {
    const entry = merged.get(operation) ?? { checked: 0, total: 0 };
    entry.checked += c.checked;
    entry.total += c.total;
    merged.set(operation, entry);
  }
}
if (merged.size > 0) process.stdout.write(`\nSpec coverage of this run: ${coverageLine(merged)}.\n`);
