import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { buildApp, grantAppOwner, rulesFor } from '../support/app-fixture';
import { clientPrincipal, EASY_AUTH_ON } from '../support/easy-auth';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { type Answer, assertMatchesOpenApi, call } from '../support/http-api';
import { TRIGGER_RULES } from './rules.fixture';

const env = useEmulator({ subscriptions: [SUB_A] });
const KEY = { 'x-functions-key': 'the-host-checked-this-key' };
const READER = clientPrincipal({ roles: ['Remediation.Read'] });
const APPLIER = clientPrincipal({ roles: ['Remediation.Apply'] });
const NOBODY = clientPrincipal({ roles: ['Some.Other.Role'] });

describe('HTTP callers: Easy Auth principal, app roles, rate limit', () => {
  let web: string;
  let app: Autopilot;
  const post = (target: Autopilot, mode: 'plan' | 'apply', principal: string | null) =>
    call(
      target,
      'remediationsPost',
      {
        method: 'POST',
        url: 'http://localhost/api/remediations',
        headers: { 'content-type': 'application/json', ...KEY },
        body: { string: JSON.stringify({ resourceId: web, mode }) },
      },
      principal,
    );
  const ledger = (target: Autopilot, principal: string | null) => {
    const encoded = encodeURIComponent(web);
    return call(
      target,
      'resourceRemediations',
      { method: 'GET', url: `http://localhost/api/resources/${encoded}/remediations`, headers: KEY, params: { resourceId: encoded } },
      principal,
    );
  };
  const byRequest = (target: Autopilot, principal: string | null) => {
    const id = '0b8c5a3e-1d2f-4a5b-8c6d-7e8f9a0b1c2d';
    return call(
      target,
      'remediationsGet',
      { method: 'GET', url: `http://localhost/api/remediations/${id}`, headers: KEY, params: { requestId: id } },
      principal,
    );
  };
  function expectProblem(answer: Answer, status: number, code: string, path: string, method: 'get' | 'post') {
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body.code, code);
    assertMatchesOpenApi(path, method, answer);
  }

  before(() => {
    grantAppOwner(env.emulator);
    web = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-callers',
      type: SEED_TYPES.webApp,
      name: 'web-callers',
    });
    app = buildApp(env, rulesFor(TRIGGER_RULES), {}, { ...EASY_AUTH_ON });
  });

  it('role checks are on by default: a function key alone is 401, on every operation, and nothing is written', async () => {
    const before = env.emulator.lastSeq;
    const answer = await post(app, 'apply', null);
    expectProblem(answer, 401, 'Unauthenticated', '/remediations', 'post');
    assert.equal(answer.headers['www-authenticate'], 'Bearer');
    expectProblem(await ledger(app, null), 401, 'Unauthenticated', '/resources/{resourceId}/remediations', 'get');
    expectProblem(await byRequest(app, null), 401, 'Unauthenticated', '/remediations/{requestId}', 'get');
    assert.deepEqual(env.emulator.requestsSince(before), []);
    assert.equal(env.emulator.state.resource(web)!.body.identity, undefined);
  });

  it('a principal without the role is 403 MissingAppRole; a malformed principal header is 401', async () => {
    const before = env.emulator.lastSeq;
    expectProblem(await post(app, 'apply', NOBODY), 403, 'MissingAppRole', '/remediations', 'post');
    expectProblem(await post(app, 'plan', NOBODY), 403, 'MissingAppRole', '/remediations', 'post');
    expectProblem(await ledger(app, NOBODY), 403, 'MissingAppRole', '/resources/{resourceId}/remediations', 'get');
    // Read does not allow apply; Apply does not allow ledger reads.
    expectProblem(await post(app, 'apply', READER), 403, 'MissingAppRole', '/remediations', 'post');
    expectProblem(await byRequest(app, APPLIER), 403, 'MissingAppRole', '/remediations/{requestId}', 'get');
    assert.deepEqual(env.emulator.requestsSince(before), [], 'refused before any ARM call');
    for (const bad of [
      'not base64!',
      Buffer.from('{"claims":"nope"}').toString('base64'),
      Buffer.from(JSON.stringify({ claims: [{ typ: 'roles', val: 'Remediation.Apply' }] })).toString('base64'),
    ]) {
      expectProblem(await post(app, 'apply', bad), 401, 'Unauthenticated', '/remediations', 'post');
    }
  });

  it('with the role: Read may plan and read the ledger, Apply may apply (200)', async () => {
    const plan = await post(app, 'plan', READER);
    assert.equal(plan.status, 200, JSON.stringify(plan.body));
    assert.equal(plan.body.outcome.status, 'planned');
    const entries = await ledger(app, READER);
    assert.equal(entries.status, 200);
    assertMatchesOpenApi('/resources/{resourceId}/remediations', 'get', entries);
    const applied = await post(app, 'apply', APPLIER);
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    assert.equal(applied.body.outcome.status, 'remediated');
    assert.equal(env.emulator.state.resource(web)!.body.identity.type, 'SystemAssigned');
    assert.equal((await post(app, 'plan', APPLIER)).status, 200, 'Apply may also plan');
  });

  it('without App Service authentication on the app, a forged principal header proves nothing (401)', async () => {
    const unprotected = buildApp(env, rulesFor(TRIGGER_RULES));
    const forged = clientPrincipal({ roles: ['Remediation.Apply', 'Remediation.Read'] });
    const answer = await post(unprotected, 'apply', forged);
    expectProblem(answer, 401, 'Unauthenticated', '/remediations', 'post');
    assert.match(answer.body.detail, /App Service authentication is not enabled/);
  });

  it('AUTOPILOT_HTTP_ROLE_CHECKS=false: the function key alone works, as the operator chose', async () => {
    const keyOnly = buildApp(env, rulesFor(TRIGGER_RULES), {}, { AUTOPILOT_HTTP_ROLE_CHECKS: 'false' });
    const plan = await post(keyOnly, 'plan', null);
    assert.equal(plan.status, 200, JSON.stringify(plan.body));
    assert.equal((await ledger(keyOnly, null)).status, 200);
  });

  it('a caller over its rate limit gets 429 with Retry-After and a problem body; other callers are unaffected', async () => {
    const limited = buildApp(env, rulesFor(TRIGGER_RULES), {}, { ...EASY_AUTH_ON, AUTOPILOT_HTTP_RATE_LIMIT_PER_MINUTE: '3' });
    const caller = clientPrincipal({ roles: ['Remediation.Read'] });
    for (let i = 0; i < 3; i++) assert.equal((await ledger(limited, caller)).status, 200, `call ${i + 1}`);
    const before = env.emulator.lastSeq;
    const over = await post(limited, 'plan', caller);
    expectProblem(over, 429, 'TooManyRequests', '/remediations', 'post');
    assert.ok(Number(over.headers['retry-after']) >= 1 && Number(over.headers['retry-after']) <= 20, over.headers['retry-after']);
    assert.deepEqual(env.emulator.requestsSince(before), [], 'the limited call made no ARM call');
    expectProblem(await ledger(limited, caller), 429, 'TooManyRequests', '/resources/{resourceId}/remediations', 'get');
    assert.equal((await ledger(limited, READER)).status, 200, 'another caller has its own budget');
  });
});
