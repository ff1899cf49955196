import type { HttpResponseInit } from '@azure/functions';
import { json } from '../http/problem';
import { OPENAPI_DOCUMENT } from '../http/openapi';

/** GET /api/openapi.json */
export async function openApiHandler(): Promise<HttpResponseInit> {
  return json(200, OPENAPI_DOCUMENT, { 'cache-control': 'public, max-age=300' });
}
