import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { clientPrincipal, EASY_AUTH_ON } from '../support/easy-auth';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { call } from '../support/http-api';
import { TRIGGER_RULES } from './rules.fixture';

const env = useEmulator({ subscriptions: [SUB_A] });
const APPLIER = clientPrincipal({ roles: ['Remediation.Apply'] });

/** No clock is injected here: the app judges exemptions at the real time, so the dates are far from today. */
const RULES = `${TRIGGER_RULES}
exemptions:
  - name: "web-exempt*"
    category: mitigated
    reason: "authenticates with a certificate the platform team rotates (SEC-88)"
    expiresOn: 2099-01-01T00:00:00Z
  - name: "web-expired"
    category: waiver
    reason: "pilot"
    expiresOn: 2020-01-01T00:00:00Z
`;
const DETAIL =
  'exemptions[0] (mitigated, expires 2099-01-01T00:00:00Z): authenticates with a certificate the platform team rotates (SEC-88)';

const site = (name: string) =>
  seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-exempt', type: SEED_TYPES.webApp, name });

describe('exemptions on the Event Grid and HTTP paths, judged at the real time', () => {
  let app: Autopilot;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(RULES), {}, { ...EASY_AUTH_ON });
  });

  it('Event Grid: an exempted site is skipped with reason, category and expiry; an expired entry does not apply', async () => {
    const exempt = site('web-exempt-1');
    const d = await deliver(app, resourceWriteEvent({ resourceId: exempt }));
    assert.equal(d.outcome?.status, 'skipped', JSON.stringify(d.outcome));
    assert.deepEqual(d.outcome?.skipped, [{ reason: 'exempted', detail: DETAIL }]);
    assert.equal(env.emulator.state.resource(exempt)!.body.identity, undefined);

    const expired = site('web-expired');
    const e = await deliver(app, resourceWriteEvent({ resourceId: expired }));
    assert.equal(e.outcome?.status, 'remediated', JSON.stringify(e.outcome));
    assert.equal(env.emulator.state.resource(expired)!.body.identity?.type, 'SystemAssigned');
  });

  it('HTTP: apply on an exempted site answers with the skipped outcome (not 403 OutsideGovernedScope), writing nothing', async () => {
    const exempt = site('web-exempt-2');
    const before = env.emulator.lastSeq;
    const answer = await call(
      app,
      'remediationsPost',
      {
        method: 'POST',
        url: 'http://localhost/api/remediations',
        headers: { 'content-type': 'application/json', 'x-functions-key': 'k' },
        body: { string: JSON.stringify({ resourceId: exempt, mode: 'apply' }) },
      },
      APPLIER,
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.outcome.status, 'skipped');
    assert.deepEqual(answer.body.outcome.skipped, [{ reason: 'exempted', detail: DETAIL }]);
    assert.ok(
      env.emulator.requestsSince(before).every((r) => r.method === 'GET'),
      'read only',
    );
    assert.equal(env.emulator.state.resource(exempt)!.body.identity, undefined);
  });
});
