import type { HttpRequest } from '@azure/functions';
import Ajv, { type ValidateFunction } from 'ajv';

/** Real requests are a few hundred bytes; anything bigger is not one. */
export const MAX_BODY_BYTES = 16 * 1024;

export const REMEDIATION_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['resourceId', 'mode'],
  properties: {
    resourceId: {
      type: 'string',
      maxLength: 4096,
      description: 'ARM id of the resource, e.g. /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}',
    },
    mode: { type: 'string', enum: ['plan', 'apply'], description: 'plan: read and plan, never write. apply: make the changes.' },
    profiles: {
      type: 'array',
      maxItems: 20,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
      description: 'Extra role profiles; only profiles the matching rule lists in tagSelectableProfiles are accepted.',
    },
  },
} as const;

// Compiled on the first request, not when the runtime loads: Event Grid and queue invocations never need it.
let compiled: ValidateFunction | undefined;
const validator = (): ValidateFunction => (compiled ??= new Ajv({ allErrors: false, strict: true }).compile(REMEDIATION_REQUEST_SCHEMA));

/**
 * A valid body, as REMEDIATION_REQUEST_SCHEMA admits it. Its own type, not the use case's: this layer
 * parses and never reaches into the app (test/architecture/dependencies.test.ts); the entry point
 * hands it on, and the compiler checks it fits the use case's request.
 */
export interface RemediationBody {
  resourceId: string;
  mode: 'plan' | 'apply';
  profiles?: readonly string[];
}

export type BodyResult =
  | { ok: true; request: RemediationBody }
  | { ok: false; status: 400 | 413 | 415; code: 'UnsupportedMediaType' | 'BodyTooLarge' | 'InvalidJson' | 'InvalidBody'; detail: string };

/** Reads and validates the body of POST /api/remediations: media type, size, JSON, schema. */
export async function readRemediationBody(request: HttpRequest): Promise<BodyResult> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    return {
      ok: false,
      status: 415,
      code: 'UnsupportedMediaType',
      detail: `content-type must be application/json, not '${type || '(none)'}'`,
    };
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES)
    return { ok: false, status: 413, code: 'BodyTooLarge', detail: `the body is ${declared} bytes; the limit is ${MAX_BODY_BYTES}` };
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    return {
      ok: false,
      status: 413,
      code: 'BodyTooLarge',
      detail: `the body is ${Buffer.byteLength(text)} bytes; the limit is ${MAX_BODY_BYTES}`,
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    return { ok: false, status: 400, code: 'InvalidJson', detail: (e as Error).message };
  }
  const validate = validator();
  if (!validate(body)) {
    const err = validate.errors![0]!;
    const where = err.instancePath || '(body)';
    const extra = err.keyword === 'additionalProperties' ? ` '${(err.params as { additionalProperty: string }).additionalProperty}'` : '';
    return { ok: false, status: 400, code: 'InvalidBody', detail: `${where}: ${err.message}${extra}` };
  }
  return { ok: true, request: body as RemediationBody };
}
