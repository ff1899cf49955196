import assert from 'node:assert/strict';
import { HttpRequest, type HttpResponseInit, InvocationContext } from '@azure/functions';
import Ajv from 'ajv';
import type { Autopilot } from '../../src/app/composition';
import { triggerNamed } from '../../src/functions/triggers';
import { OPENAPI_DOCUMENT } from '../../src/http/openapi';
import { OPERATOR_PRINCIPAL } from './easy-auth';

export interface Answer {
  status: number;
  contentType: string;
  headers: Record<string, string>;
  body: any;
}

/**
 * Calls an HTTP function from the trigger table with the library's own HttpRequest and
 * InvocationContext. The caller is an Entra principal with both app roles (App Service
 * authentication in front) unless `principal` says otherwise (null: no principal header at all).
 */
export async function call(
  app: Autopilot,
  name: string,
  init: ConstructorParameters<typeof HttpRequest>[0],
  principal: string | null = OPERATOR_PRINCIPAL,
): Promise<Answer> {
  const trigger = triggerNamed('http', name, () => app);
  const context = new InvocationContext({ invocationId: 'test', functionName: name, logHandler: () => undefined });
  const headers = { ...(principal ? { 'x-ms-client-principal': principal } : {}), ...(init.headers as Record<string, string> | undefined) };
  const response: HttpResponseInit = await trigger.handler(new HttpRequest({ ...init, headers }), context);
  const text = typeof response.body === 'string' ? response.body : '';
  const answerHeaders = Object.fromEntries(
    Object.entries((response.headers as Record<string, string>) ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  return {
    status: response.status ?? 200,
    contentType: answerHeaders['content-type'] ?? '',
    headers: answerHeaders,
    body: text ? JSON.parse(text) : undefined,
  };
}

/** Every answer is checked against the OpenAPI description of its operation and status. */
// Formats (uuid, date-time) are not checked: ajv-formats is not a dependency of this project.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ ...OPENAPI_DOCUMENT, $id: 'openapi' });
export function assertMatchesOpenApi(path: string, method: 'get' | 'post', answer: Answer): void {
  const operation = (OPENAPI_DOCUMENT.paths as any)[path][method];
  const response = operation.responses[String(answer.status)];
  assert.ok(response, `${method.toUpperCase()} ${path} documents status ${answer.status}`);
  const [mediaType, media] = Object.entries(response.content as Record<string, { schema: { $ref?: string } }>)[0]!;
  assert.equal(answer.contentType, mediaType);
  const schema = media.schema.$ref
    ? { $ref: `openapi${media.schema.$ref}` }
    : JSON.parse(JSON.stringify(media.schema).replace(/"#\/components/g, '"openapi#/components'));
  const validate = ajv.compile(schema);
  assert.ok(validate(answer.body), `${method.toUpperCase()} ${path} ${answer.status}: ${ajv.errorsText(validate.errors)}`);
  for (const header of Object.keys(response.headers ?? {}))
    assert.ok(answer.headers[header.toLowerCase()], `${method.toUpperCase()} ${path} ${answer.status} sends ${header}`);
}
