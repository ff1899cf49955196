/**
 * The typed Azure SDKs' model mappers (generated from the RPs' REST specs) as a check on request
 * bodies: a body is deserialised into the SDK model and serialised back. Serialisation throws on a
 * missing required property and on a value outside a closed enum (`modelAsString: false`, e.g.
 * Compute's ResourceIdentityType); a property that does not survive the round trip and is not
 * read-only is one the spec does not know.
 */
import { dirname, join } from 'node:path';
import { type CompositeMapper, createSerializer, type Mapper } from '@azure/core-client';

type Mappers = Record<string, CompositeMapper>;

/** The mappers module of a generated package (not exported, so loaded by path). */
const loaded = new Map<string, Mappers>();

export function loadMappers(pkg: string): Mappers {
  const cached = loaded.get(pkg);
  if (cached) return cached;
  const dir = dirname(require.resolve(`${pkg}/package.json`));
  for (const rel of ['dist/commonjs/models/mappers.js', 'dist-esm/src/models/mappers.js']) {
    try {
      const mappers = require(join(dir, rel)) as Mappers;
      loaded.set(pkg, mappers);
      return mappers;
    } catch {
      // try the next layout
    }
  }
  throw new Error(`no mappers in ${pkg}`);
}

function paths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return [prefix];
  return entries.flatMap(([k, v]) => paths(v, [...prefix, k]));
}

function has(value: unknown, path: string[]): boolean {
  let v: any = value;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !(p in v)) return false;
    v = v[p];
  }
  return true;
}

/** The mapper a wire path leads to (`properties.x` flattening, dictionaries), or undefined if unknown. */
function mapperAt(mappers: Mappers, mapper: Mapper, path: string[]): Mapper | undefined {
  if (path.length === 0) return mapper;
  const t = mapper.type as any;
  if (t.name === 'Composite') {
    const composite = (mappers[t.className]?.type ?? t) as any;
    const props = { ...(composite.modelProperties ?? {}) };
    for (const [name, prop] of Object.entries(props) as [string, Mapper][]) {
      const segs = (prop.serializedName ?? name).split(/(?<!\\)\./).map((s) => s.replace(/\\\./g, '.'));
      if (segs.every((s, i) => path[i] === s)) {
        if (prop.readOnly) return prop;
        return mapperAt(mappers, prop, path.slice(segs.length));
      }
    }
    if (composite.additionalProperties) return composite.additionalProperties;
    return undefined;
  }
  if (t.name === 'Dictionary') return mapperAt(mappers, t.value, path.slice(1));
  if (t.name === 'Sequence') return mapperAt(mappers, t.element, path.slice(1));
  return path.length === 0 ? mapper : undefined;
}

function valueAt(value: unknown, path: string[]): unknown {
  let v: any = value;
  for (const p of path) v = v?.[p];
  return v;
}

/**
 * Problems the SDK's model finds in a wire body, as `path: reason` lines (empty when it conforms).
 * `complete`: the body must be whole (PUT, PATCH of a full model): required properties are enforced.
 * Otherwise (responses, which omit write-only fields; JSON merge patches, which are partial by
 * definition) only unknown properties and closed-enum values are checked.
 */
export function checkBody(mappers: Mappers, className: string, body: unknown, options: { complete?: boolean } = {}): string[] {
  const serializer = createSerializer(mappers as never, false);
  const root: Mapper = { serializedName: className, type: { name: 'Composite', className } } as Mapper;
  const problems: string[] = [];
  let roundTrip: unknown;
  try {
    const model = serializer.deserialize(root, body, 'body');
    if (options.complete !== false) roundTrip = serializer.serialize(root, model, 'body');
  } catch (e) {
    return [`serialisation: ${e instanceof Error ? e.message : String(e)}`];
  }
  for (const path of paths(body)) {
    if (path.length === 0) continue;
    if (roundTrip !== undefined && has(roundTrip, path)) continue;
    const mapper = mapperAt(mappers, root, path);
    if (!mapper) {
      problems.push(`${path.join('.')}: not in the spec's ${className}`);
      continue;
    }
    const type = mapper.type as { name: string; allowedValues?: unknown[] };
    const value = valueAt(body, path);
    if (
      type.name === 'Enum' &&
      typeof value === 'string' &&
      !type.allowedValues!.some((a) => String(a).toLowerCase() === value.toLowerCase())
    ) {
      problems.push(`${path.join('.')}: '${value}' is not one of ${JSON.stringify(type.allowedValues)}`);
    } else if (roundTrip !== undefined && !mapper.readOnly) {
      problems.push(`${path.join('.')}: dropped by the SDK model`);
    }
  }
  return problems;
}
