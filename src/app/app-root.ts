import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

/**
 * The app root is the folder holding host.json: the repository in development, the package folder
 * when deployed (wherever the bundle sits inside it). Relative settings such as the rules path
 * resolve from there, so they mean the same under `func start`, the Functions host and a clone.
 */
function findAppRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'host.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

let appRoot: string | undefined;

export function resolveRulesPath(path: string): string {
  appRoot ??= findAppRoot(__dirname);
  return isAbsolute(path) ? path : join(appRoot, path);
}
