import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Autopilot } from '../app/composition';
import { runManualRemediation } from '../app/manual-remediation';
import { parseArmId } from '../arm/resource-id';
import { isAutopilotError } from '../errors';
import { admit, authorize, type Permission } from '../http/access';
import type { Caller } from '../http/caller';
import { json, problem } from '../http/problem';
import { RateLimiter } from '../http/rate-limit';
import { readRemediationBody } from '../http/remediation-body';
import type { LedgerStore } from '../ledger/types';
import { createLogger } from '../logging/logger';
import { contextSink } from './resource-write-success';

/** One rate limiter per app instance, shared by every HTTP function (a caller has one budget). */
const limiters = new WeakMap<Autopilot, RateLimiter>();
function limiterFor(autopilot: Autopilot): RateLimiter {
  let limiter = limiters.get(autopilot);
  if (!limiter) limiters.set(autopilot, (limiter = new RateLimiter(autopilot.settings.http.rateLimitPerMinute)));
  return limiter;
}

/** Authentication, rate limit and app role of a call: a response to send back, or the caller. */
function gate(request: HttpRequest, autopilot: Autopilot, permission?: Permission): { caller: Caller } | { response: HttpResponseInit } {
  const admitted = admit(request, autopilot.settings.http, limiterFor(autopilot));
  if ('response' in admitted || !permission) return admitted;
  const denied = authorize(admitted.caller, permission, autopilot.settings.http);
  return denied ? { response: denied } : admitted;
}

/** POST /api/remediations: plan or apply for one resource. */
export function createRemediationsPostHandler(getAutopilot: () => Autopilot) {
  return async function postRemediation(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const autopilot = getAutopilot();
    const admitted = gate(request, autopilot);
    if ('response' in admitted) return admitted.response;
    const body = await readRemediationBody(request);
    if (!body.ok) return problem(body.status, body.code, body.detail);
    // The role needed depends on the mode, so it is checked once the body says which.
    const denied = authorize(admitted.caller, body.request.mode, autopilot.settings.http);
    if (denied) return denied;
    const log = createLogger(contextSink(context), {
      invocationId: context.invocationId,
      trigger: 'http',
      resourceId: body.request.resourceId,
      caller: admitted.caller.id,
    });
    // The use case logs the outcome (under the request id); a refusal is this adapter's to log.
    const result = await runManualRemediation(autopilot, body.request, 'http', log);
    if (result.kind === 'rejected') {
      log.child({ requestId: result.requestId }).log('warn', 'request.rejected', { code: result.code, detail: result.detail });
      return problem(result.status, result.code, result.detail, { requestId: result.requestId });
    }
    return json(
      200,
      { requestId: result.requestId, mode: body.request.mode, outcome: result.outcome },
      { 'x-request-id': result.requestId },
    );
  };
}

/** GET /api/remediations/{requestId}: the ledger entry of one apply request. */
export function createRemediationGetHandler(getAutopilot: () => Autopilot) {
  return async function getRemediation(request: HttpRequest): Promise<HttpResponseInit> {
    const admitted = gate(request, getAutopilot(), 'read');
    if ('response' in admitted) return admitted.response;
    const requestId = request.params.requestId ?? '';
    if (!/^[0-9a-f-]{36}$/i.test(requestId)) return problem(400, 'InvalidBody', `'${requestId.slice(0, 80)}' is not a request id (a GUID)`);
    return withLedger(async (ledger) => {
      const entry = await ledger.byRequestId(requestId);
      return entry ? json(200, entry) : problem(404, 'NotFound', `no remediation with request id ${requestId}`);
    }, getAutopilot);
  };
}

/** GET /api/resources/{resourceId}/remediations: a resource's ledger entries, newest first. */
export function createResourceRemediationsHandler(getAutopilot: () => Autopilot) {
  return async function listResourceRemediations(request: HttpRequest): Promise<HttpResponseInit> {
    const admitted = gate(request, getAutopilot(), 'read');
    if ('response' in admitted) return admitted.response;
    const raw = request.params.resourceId ?? '';
    let resourceId: string;
    try {
      // The id arrives URL-encoded in one path segment; decode whatever the host left encoded.
      resourceId = decodeURIComponent(raw);
    } catch {
      return problem(400, 'InvalidResourceId', 'the resource id is not correctly URL-encoded');
    }
    if (!resourceId.startsWith('/')) resourceId = `/${resourceId}`;
    try {
      resourceId = parseArmId(resourceId).id;
    } catch (e) {
      return problem(400, 'InvalidResourceId', isAutopilotError(e) ? e.message : 'the resource id could not be read');
    }
    const limit = Math.min(200, Math.max(1, Number(request.query.get('top') ?? '50') || 50));
    return withLedger(async (ledger) => json(200, { resourceId, value: await ledger.byResourceId(resourceId, limit) }), getAutopilot);
  };
}

/** Ledger reads: a storage outage is a 503 problem the caller can retry, not a bare 500. */
async function withLedger(
  read: (ledger: LedgerStore) => Promise<HttpResponseInit>,
  getAutopilot: () => Autopilot,
): Promise<HttpResponseInit> {
  try {
    return await read(getAutopilot().ledger);
  } catch (e) {
    return problem(
      503,
      'LedgerUnavailable',
      `the audit ledger could not be read: ${e instanceof Error ? e.message : String(e)}`,
      {},
      { 'retry-after': '5' },
    );
  }
}
