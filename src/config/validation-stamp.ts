import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

/**
 * The package build validates the rules file it ships and writes its SHA-256 next to it
 * (`rules.yaml.sha256`). At start-up the app compares the file with that stamp: the same bytes
 * were already validated, so start-up need not load the YAML parser and the schema validator; any
 * other file (edited after packaging, or no stamp, as in development) is validated in full.
 */
export function stampPathFor(rulesPath: string): string {
  return `${rulesPath}.sha256`;
}

export function rulesFileDigest(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export function matchesValidationStamp(rulesPath: string): boolean {
  const stamp = stampPathFor(rulesPath);
  if (!existsSync(stamp) || !existsSync(rulesPath)) return false;
  return readFileSync(stamp, 'utf8').trim() === rulesFileDigest(readFileSync(rulesPath));
}
