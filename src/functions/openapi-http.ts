import type { HttpResponseInit } from '@azure/functions';
import { OPENAPI_DOCUMENT } from '../http/openapi';
import { json } from '../http/problem';

/** GET /api/openapi.json */
export async function openApiHandler(): Promise<HttpResponseInit> {
  return json(200, OPENAPI_DOCUMENT, { 'cache-control': 'public, max-age=300' });
}
