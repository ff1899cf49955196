// The repository's import graph, read from the TypeScript sources, and the check of it against an
// allow-list of dependency rules (dependencies.test.ts holds the rules).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');

/** One import: both ends as repository-relative paths of files (`src/engine/plan.ts`). */
export interface ImportEdge {
  from: string;
  to: string;
}

export interface DependencyRules {
  /** For each area of src/ (its first folder, or a top-level module's name), the areas it may import. */
  areas: Record<string, readonly string[]>;
  /** The module that wires the adapters together; only entry points import it. */
  compositionRoot: string;
  entryPoints: readonly string[];
  /** The one file of each tool that src/ may import (`tools/arm-emulator` -> its index.ts). */
  publicSurfaces: Record<string, string>;
  /** Per-type knowledge: files of this folder other than the shared ones are reached only from inside it. */
  catalogueFolder: string;
  catalogueShared: readonly string[];
}

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /(?:from\s+|import\(\s*|require\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function resolveImport(fromFile: string, spec: string): string {
  const base = resolve(dirname(fromFile), spec);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return base;
}

/** Every relative import of every .ts file under src/ (the only side whose imports are ruled). */
export function importGraph(root: string): ImportEdge[] {
  return sourceFiles(join(root, 'src')).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => ({
      from: relative(root, file),
      to: relative(root, resolveImport(file, m[1]!)),
    })),
  );
}

/** `src/engine/plan.ts` -> `engine`; `src/errors.ts` -> `errors`; outside src, the first two folders. */
export function areaOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] !== 'src') return parts.slice(0, 2).join('/');
  return parts.length === 2 ? parts[1]!.replace(/\.(ts|json)$/, '') : parts[1]!;
}

/** Every rule one import breaks (one line each), so a test can name the rule it expects. */
function edgeViolations(edge: ImportEdge, rules: DependencyRules): string[] {
  const { from, to } = edge;
  const found: string[] = [];
  if (to.startsWith('test/')) found.push(`${from} imports test/ (${to})`);
  const tool = Object.keys(rules.publicSurfaces).find((t) => to.startsWith(`${t}/`));
  if (tool && rules.publicSurfaces[tool] !== to) found.push(`${from} imports ${to}: ${to} is not a public surface of ${tool}`);
  const source = areaOf(from);
  const target = areaOf(to);
  if (source !== target && !(rules.areas[source] ?? []).includes(target))
    found.push(`${from} imports ${to}: ${source} may not import ${target}`);
  if (to === rules.compositionRoot && source !== areaOf(rules.compositionRoot) && !rules.entryPoints.includes(source)) {
    found.push(`${from} imports ${to}: only entry points import the composition root`);
  }
  const folder = `${rules.catalogueFolder}/`;
  if (to.startsWith(folder) && !from.startsWith(folder) && !rules.catalogueShared.includes(to.slice(folder.length))) {
    found.push(`${from} imports ${to}: a per-type module is reached outside the catalogue (${folder}index.ts)`);
  }
  return found;
}

/** What in the graph the rules do not allow. */
export function violations(graph: readonly ImportEdge[], rules: DependencyRules): string[] {
  return graph.flatMap((edge) => edgeViolations(edge, rules));
}
