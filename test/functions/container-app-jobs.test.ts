/**
 * Container Apps jobs through the Event Grid trigger: Jobs_Update is a JSON merge patch answered 202 +
 * Location (Jobs.json 2024-03-01), polled until it returns the job with its new principal.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rgReaderRules } from './rules.fixture';

const env = useEmulator({ lro: { durationMs: 50, retryAfterSeconds: 0 } });
const RULES = rgReaderRules(`
  - name: jobs
    match: { types: [Microsoft.App/jobs] }
    identity: { kind: SystemAssigned }
    profiles: [rg-reader]
`);

describe('Event Grid trigger: Container Apps jobs', () => {
  let app: ReturnType<typeof buildApp>;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(RULES));
  });

  it('a new job gets a system-assigned identity by merge patch, polled through Location, and its roles', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-jobs',
      type: SEED_TYPES.containerAppJob,
      name: 'nightly-export',
    });
    const template = structuredClone(env.emulator.state.resource(id)!.body.properties.template);
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const job = env.emulator.state.resource(id)!.body;
    assert.equal(job.identity.type, 'SystemAssigned');
    assert.equal(d.outcome!.principalId, job.identity.principalId);
    assert.deepEqual(
      env.emulator.state.assignmentsFor(job.identity.principalId).map((a) => `${a.roleDefinitionGuid} @ ${a.scope.toLowerCase()}`),
      [`${ROLE.reader} @ /subscriptions/${SUB_A}/resourcegroups/rg-jobs`],
    );
    assert.deepEqual(job.properties.template, template, 'the merge patch left the job template alone');
    const calls = env.emulator.requestsSince(seq);
    const write = calls.find((c) => c.method === 'PATCH')!;
    assert.equal(write.status, 202);
    assert.deepEqual(write.body, { identity: { type: 'SystemAssigned' } }, 'JobPatchProperties has no location: the identity alone');
    assert.ok(
      calls.some((c) => c.method === 'GET' && /\/containerappsjobOperationResults\//.test(c.path)),
      'the Location monitor was polled',
    );
  });
});
