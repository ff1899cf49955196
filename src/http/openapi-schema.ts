import type { TSchema } from '@sinclair/typebox';

type JsonSchema = { [key: string]: unknown };

/**
 * OpenAPI components from TypeBox schemas: each named schema as a component, and every sub-schema with
 * an `$id` (Grantee, WorkloadIdentity) as a component of its own that the others `$ref`. The JSON copy
 * drops TypeBox's symbol keys; `$id` goes too, since OpenAPI 3.0 schema objects do not define it.
 */
export function openApiComponents(named: Record<string, TSchema>): Record<string, JsonSchema> {
  const components: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(named))
    components[name] = referencing(JSON.parse(JSON.stringify(schema)) as JsonSchema, components);
  return components;
}

function referencing(schema: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  const { $id: _id, ...rest } = schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(rest)) out[key] = walk(value, components);
  return out;
}

function walk(value: unknown, components: Record<string, JsonSchema>): unknown {
  if (Array.isArray(value)) return value.map((v) => walk(v, components));
  if (!value || typeof value !== 'object') return value;
  const schema = value as JsonSchema;
  if (typeof schema.$id === 'string') {
    components[schema.$id] ??= referencing(schema, components);
    return { $ref: `#/components/schemas/${schema.$id}` };
  }
  return referencing(schema, components);
}
