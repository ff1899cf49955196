import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { triggerDefinitions } from '../../src/functions/triggers';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource, seedScopeResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { EASY_AUTH_ON } from '../support/easy-auth';
import { SUB_A, SUB_B, useEmulator } from '../support/emulator-fixture';
import { type Answer, assertMatchesOpenApi, call } from '../support/http-api';
import { TRIGGER_RULES } from './rules.fixture';

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });
const storage = useAzurite();

const post = (app: Autopilot, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  call(app, 'remediationsPost', {
    method: 'POST',
    url: 'http://localhost/api/remediations',
    headers,
    body: { string: typeof body === 'string' ? body : JSON.stringify(body) },
  });

describe('HTTP API: POST /api/remediations, ledger lookups, OpenAPI', () => {
  let app: Autopilot;
  let web: string;
  let sharedIdentityApp: string;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(
      env,
      rulesFor(TRIGGER_RULES),
      {},
      { ...EASY_AUTH_ON, AUTOPILOT_LEDGER_CONNECTION_STRING: storage.azurite.connectionString, AUTOPILOT_LEDGER_TABLE: 'ledgertest' },
    );
    web = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-http', type: SEED_TYPES.webApp, name: 'web-http' });
    sharedIdentityApp = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-ua-http',
      type: SEED_TYPES.containerApp,
      name: 'ca-http',
    });
  });

  it('plan mode returns the plan and makes no writes (ARM or ledger)', async () => {
    const before = env.emulator.lastSeq;
    const answer = await post(app, { resourceId: web, mode: 'plan' });
    assert.equal(answer.status, 200);
    assertMatchesOpenApi('/remediations', 'post', answer);
    assert.equal(answer.body.outcome.status, 'planned');
    assert.equal(answer.body.outcome.plan.identity.action, 'write');
    assert.deepEqual(env.emulator.requestsSince(before, { writesOnly: true }), []);
    const lookup = await call(app, 'remediationsGet', {
      method: 'GET',
      url: `http://localhost/api/remediations/${answer.body.requestId}`,
      params: { requestId: answer.body.requestId },
    });
    assert.equal(lookup.status, 404);
    assertMatchesOpenApi('/remediations/{requestId}', 'get', lookup);
  });

  it('apply mode fixes the resource; the ledger has it by request id and by resource id, without tokens', async () => {
    const answer = await post(app, { resourceId: web, mode: 'apply' });
    assert.equal(answer.status, 200);
    assertMatchesOpenApi('/remediations', 'post', answer);
    assert.equal(answer.body.outcome.status, 'remediated');
    const principalId = env.emulator.state.resource(web)!.body.identity.principalId;
    const byRequest = await call(app, 'remediationsGet', {
      method: 'GET',
      url: `http://localhost/api/remediations/${answer.body.requestId}`,
      params: { requestId: answer.body.requestId },
    });
    assert.equal(byRequest.status, 200);
    assertMatchesOpenApi('/remediations/{requestId}', 'get', byRequest);
    assert.equal(byRequest.body.principalId, principalId);
    assert.equal(byRequest.body.trigger, 'http');
    assert.equal(byRequest.body.status, 'remediated');
    assert.ok(byRequest.body.plan.roleAssignments.length > 0);
    assert.ok(byRequest.body.actions.some((a: { kind: string }) => a.kind === 'role-assigned'));
    assert.ok(byRequest.body.durationMs >= 0 && byRequest.body.startedAt && byRequest.body.finishedAt);
    assert.doesNotMatch(JSON.stringify(byRequest.body), /eyJ[A-Za-z0-9_-]{5,}\./);
    const encoded = encodeURIComponent(web.replace(/\/resourceGroups\//, '/resourcegroups/'));
    const byResource = await call(app, 'resourceRemediations', {
      method: 'GET',
      url: `http://localhost/api/resources/${encoded}/remediations`,
      params: { resourceId: encoded },
    });
    assert.equal(byResource.status, 200);
    assertMatchesOpenApi('/resources/{resourceId}/remediations', 'get', byResource);
    assert.equal(byResource.body.value[0].requestId, answer.body.requestId);
  });

  it('the ledger de-duplicates a redelivered Event Grid event by its id', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-http',
      type: SEED_TYPES.virtualMachine,
      name: 'vm-dedup',
    });
    const event = resourceWriteEvent({ resourceId: id });
    assert.equal((await deliver(app, event)).outcome?.status, 'remediated');
    // A second app instance (another worker) shares the ledger, not memory.
    const other = buildApp(
      env,
      rulesFor(TRIGGER_RULES),
      {},
      { ...EASY_AUTH_ON, AUTOPILOT_LEDGER_CONNECTION_STRING: storage.azurite.connectionString, AUTOPILOT_LEDGER_TABLE: 'ledgertest' },
    );
    const before = env.emulator.lastSeq;
    const again = await deliver(other, event);
    assert.equal(again.logs.find((l) => l.record.event === 'event.ignored')?.record.reason, 'duplicate-delivery');
    assert.deepEqual(env.emulator.requestsSince(before), []);
    const entries = await other.ledger.byResourceId(id);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.trigger, 'eventGrid');
    assert.equal(entries[0]!.eventId, event.id);
  });

  describe('rejections (RFC 9457 problem+json, stable codes)', () => {
    const cases: Array<[string, () => Promise<Answer>, number, string]> = [
      ['an unknown profile', () => post(app, { resourceId: web, mode: 'apply', profiles: ['no-such-profile'] }), 403, 'UnknownProfile'],
      [
        'Owner through a crafted profile name',
        () => post(app, { resourceId: web, mode: 'apply', profiles: ['Owner'] }),
        403,
        'UnknownProfile',
      ],
      [
        'a defined profile the matching rule does not let callers pick',
        () => post(app, { resourceId: sharedIdentityApp, mode: 'apply', profiles: ['vault-secrets'] }),
        403,
        'ProfileNotSelectable',
      ],
      [
        'a resource outside the governed scope',
        () => post(app, { resourceId: `/subscriptions/${SUB_B}/resourceGroups/rg/providers/Microsoft.Web/sites/x`, mode: 'apply' }),
        403,
        'OutsideGovernedScope',
      ],
      [
        'an unsupported type',
        () =>
          post(app, {
            resourceId: `/subscriptions/${SUB_A}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x`,
            mode: 'plan',
          }),
        403,
        'OutsideGovernedScope',
      ],
      [
        'a malformed id',
        () => post(app, { resourceId: '/subscriptions/not-a-guid/resourceGroups/rg', mode: 'plan' }),
        400,
        'InvalidResourceId',
      ],
      [
        'a resource group instead of a resource',
        () => post(app, { resourceId: `/subscriptions/${SUB_A}/resourceGroups/rg`, mode: 'plan' }),
        400,
        'InvalidResourceId',
      ],
      ['an oversize body', () => post(app, { resourceId: web, mode: 'plan', pad: 'x'.repeat(20_000) }), 413, 'BodyTooLarge'],
      ['invalid JSON', () => post(app, '{"resourceId": '), 400, 'InvalidJson'],
      ['an unknown property', () => post(app, { resourceId: web, mode: 'plan', force: true }), 400, 'InvalidBody'],
      ['a bad mode', () => post(app, { resourceId: web, mode: 'yolo' }), 400, 'InvalidBody'],
      ['a missing content type', () => post(app, { resourceId: web, mode: 'plan' }, {}), 415, 'UnsupportedMediaType'],
    ];
    for (const [label, send, status, code] of cases) {
      it(`${label}: ${status} ${code}, and no write`, async () => {
        const before = env.emulator.lastSeq;
        const answer = await send();
        assert.equal(answer.status, status, JSON.stringify(answer.body));
        assert.equal(answer.contentType, 'application/problem+json');
        assert.equal(answer.body.code, code);
        assertMatchesOpenApi('/remediations', 'post', answer);
        assert.deepEqual(env.emulator.requestsSince(before, { writesOnly: true }), []);
      });
    }

    it('Owner through a tag: the tag can only name profiles the rules define', async () => {
      const tagged = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-http',
        type: SEED_TYPES.webApp,
        name: 'web-owner-tag',
        tags: { 'autopilot-profiles': 'Owner' },
      });
      const answer = await post(app, { resourceId: tagged, mode: 'apply' });
      assert.equal(answer.status, 403);
      assert.equal(answer.body.code, 'UnknownProfile');
      assert.equal(env.emulator.state.resource(tagged)!.body.identity, undefined);
    });

    it('a missing function key: every operation is authLevel function, so the host answers 401 before the handler runs', () => {
      const http = triggerDefinitions(() => app).filter((t) => t.kind === 'http');
      for (const t of http) {
        if (t.kind !== 'http') continue;
        assert.equal(t.authLevel, t.route === 'openapi.json' ? 'anonymous' : 'function', t.name);
      }
    });
  });

  it('serves an OpenAPI document whose operations are exactly the HTTP triggers', async () => {
    const answer = await call(app, 'openApi', { method: 'GET', url: 'http://localhost/api/openapi.json' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.openapi, '3.0.3');
    const documented = Object.entries(answer.body.paths)
      .flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    const routed = triggerDefinitions(() => app)
      .flatMap((t) => (t.kind === 'http' && t.route !== 'openapi.json' ? t.methods.map((m) => `${m} /${t.route}`) : []))
      .sort();
    assert.deepEqual(documented, routed);
  });

  it('publishes each outcome as a CloudEvent to the custom topic with the app identity', async () => {
    const topicApp = buildApp(
      env,
      rulesFor(TRIGGER_RULES),
      {},
      { ...EASY_AUTH_ON, AUTOPILOT_OUTCOME_TOPIC_ENDPOINT: `${env.emulator.url}/api/events` },
    );
    const vault = seedScopeResource(
      env.emulator.state,
      `/subscriptions/${SUB_A}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-x`,
    );
    const ok = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-http',
      type: SEED_TYPES.containerGroup,
      name: 'aci-events',
      tags: { 'kv-id': vault },
    });
    const before = env.emulator.topic.received.length;
    assert.equal((await post(topicApp, { resourceId: ok, mode: 'apply' })).body.outcome.status, 'remediated');
    const broken = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-http',
      type: SEED_TYPES.webApp,
      name: 'web-fails',
    });
    env.emulator.faults.add({ path: 'web-fails', method: 'PATCH', times: 1, action: { kind: 'error', status: 400, code: 'BadRequest' } });
    assert.equal((await post(topicApp, { resourceId: broken, mode: 'apply' })).body.outcome.status, 'failed');
    const received = env.emulator.topic.received.slice(before);
    assert.deepEqual(
      received.map((r) => [r.event.type, r.event.subject]),
      [
        ['IdentityAutopilot.RemediationCompleted', ok],
        ['IdentityAutopilot.RemediationFailed', broken],
      ],
    );
    assert.ok(received.every((r) => r.principalId === env.emulator.appPrincipal.id && r.event.specversion === '1.0'));
    assert.equal((received[0]!.event.data as { status: string }).status, 'remediated');
  });

  it('an outcome topic outage is logged, and neither fails the request nor loses the ledger entry', async () => {
    const topicApp = buildApp(
      env,
      rulesFor(TRIGGER_RULES),
      {},
      {
        ...EASY_AUTH_ON,
        AUTOPILOT_OUTCOME_TOPIC_ENDPOINT: `${env.emulator.url}/api/events`,
        AUTOPILOT_LEDGER_CONNECTION_STRING: storage.azurite.connectionString,
        AUTOPILOT_LEDGER_TABLE: 'ledgertest',
      },
    );
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-http',
      type: SEED_TYPES.webApp,
      name: 'web-topic-down',
    });
    env.emulator.topic.refuseWith = 400;
    try {
      const answer = await post(topicApp, { resourceId: id, mode: 'apply' });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.outcome.status, 'remediated');
      assert.equal((await topicApp.ledger.byRequestId(answer.body.requestId))?.status, 'remediated');
    } finally {
      env.emulator.topic.refuseWith = undefined;
    }
  });

  it('a ledger outage on lookups is a 503 problem with Retry-After, as documented', async () => {
    const broken = buildApp(env, rulesFor(TRIGGER_RULES), {}, EASY_AUTH_ON);
    // The ledger port itself failing (a storage outage); the SDKs are not involved.
    const failing = () => Promise.reject(new Error('table service unreachable'));
    Object.assign(broken.ledger, { byRequestId: failing, byResourceId: failing });
    const id = '0b8c5a3e-1d2f-4a5b-8c6d-7e8f9a0b1c2d';
    const one = await call(broken, 'remediationsGet', {
      method: 'GET',
      url: `http://localhost/api/remediations/${id}`,
      params: { requestId: id },
    });
    assert.equal(one.status, 503);
    assert.equal(one.body.code, 'LedgerUnavailable');
    assertMatchesOpenApi('/remediations/{requestId}', 'get', one);
    const encoded = encodeURIComponent(web);
    const list = await call(broken, 'resourceRemediations', {
      method: 'GET',
      url: `http://localhost/api/resources/${encoded}/remediations`,
      params: { resourceId: encoded },
    });
    assert.equal(list.status, 503);
    assertMatchesOpenApi('/resources/{resourceId}/remediations', 'get', list);
  });
});
