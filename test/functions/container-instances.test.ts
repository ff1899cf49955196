import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import type { Json } from '../../tools/arm-emulator/state';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rgReaderRules } from './rules.fixture';

const env = useEmulator();

const RULES = rgReaderRules(`
  - name: restart-allowed
    match: { resourceGroups: ["rg-aci-restart"] }
    identity: { kind: SystemAssigned }
    profiles: [rg-reader]
    workload: { allowRestart: true }
  - name: report-only
    match: { resourceGroups: ["rg-aci-report"] }
    identity: { kind: SystemAssigned }
    profiles: [rg-reader]
    mode: report
    workload: { allowRestart: true }
  - name: default
    identity: { kind: SystemAssigned }
    profiles: [rg-reader]
`);

const SECRET = 'hunter2-do-not-log';
const container = (name: string, extra: Json = {}): Json => ({
  name,
  properties: { image: 'mcr.microsoft.com/azuredocs/aci-helloworld', resources: { requests: { cpu: 1, memoryInGB: 1.5 } }, ...extra },
});

/** Each write-only field ACI holds, as the group is created with it, and the path the outcome must name. */
const SECRETS: Array<{ what: string; properties: Json; field: RegExp }> = [
  {
    what: 'a secure environment variable',
    properties: {
      containers: [
        container('web', {
          environmentVariables: [
            { name: 'MODE', value: 'prod' },
            { name: 'DB_PASSWORD', secureValue: SECRET },
          ],
        }),
      ],
    },
    field: /containers\["web"\]\.environmentVariables\["DB_PASSWORD"\]\.secureValue/,
  },
  {
    what: 'a secure environment variable of an init container',
    properties: {
      initContainers: [{ name: 'init', properties: { image: 'busybox', environmentVariables: [{ name: 'TOKEN', secureValue: SECRET }] } }],
    },
    field: /initContainers\["init"\]\.environmentVariables\["TOKEN"\]\.secureValue/,
  },
  {
    what: 'an image registry password',
    properties: { imageRegistryCredentials: [{ server: 'contoso.azurecr.io', username: 'puller', password: SECRET }] },
    field: /imageRegistryCredentials\["contoso\.azurecr\.io"\]\.password/,
  },
  {
    what: 'an Azure Files storage account key',
    properties: {
      volumes: [{ name: 'share', azureFile: { shareName: 'data', storageAccountName: 'contosodata', storageAccountKey: SECRET } }],
    },
    field: /volumes\["share"\]\.azureFile\.storageAccountKey/,
  },
  {
    what: 'a secret volume',
    properties: { volumes: [{ name: 'certs', secret: { 'tls.key': Buffer.from(SECRET).toString('base64') } }] },
    field: /volumes\["certs"\]\.secret/,
  },
  {
    what: 'a Log Analytics workspace key',
    properties: { diagnostics: { logAnalytics: { workspaceId: '0f0f0f0f-0000-4000-8000-000000000001', workspaceKey: SECRET } } },
    field: /diagnostics\.logAnalytics\.workspaceKey/,
  },
];

function writesSince(seq: number) {
  return env.emulator.requestsSince(seq, { writesOnly: true, principalId: env.emulator.appPrincipal.id });
}

describe('Container Instances: never PUT a group whose secrets a GET cannot return, and restart only with consent', () => {
  let app: ReturnType<typeof buildApp>;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(RULES));
  });

  for (const [i, secret] of SECRETS.entries()) {
    it(`${secret.what}: blocked RequiresRedeploy, no PUT, no restart, secret untouched`, async () => {
      // The rule allows the restart, so only the secret stands in the way.
      const id = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-aci-restart',
        type: SEED_TYPES.containerGroup,
        name: `secret-${i}`,
        properties: secret.properties,
      });
      const stored = structuredClone(env.emulator.state.resource(id)!.body);
      const seq = env.emulator.lastSeq;
      const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
      assert.equal(d.error, undefined, String(d.error));
      assert.equal(d.outcome?.status, 'blocked', JSON.stringify(d.outcome));
      assert.deepEqual(
        d.outcome!.blockers.map((b: { code: string }) => b.code),
        ['RequiresRedeploy'],
      );
      const [blocker] = d.outcome!.blockers;
      assert.match(blocker.detail, secret.field);
      assert.match(blocker.remedy, /identity/);
      assert.match(blocker.remedy, /template/);
      assert.deepEqual(writesSince(seq), [], 'no write of any kind');
      assert.equal(env.emulator.state.restartCount(id), 0);
      assert.deepEqual(env.emulator.state.resource(id)!.body, stored, 'the group, its secrets included, is as it was');
      assert.doesNotMatch(JSON.stringify(d.logs), new RegExp(SECRET), 'no secret in any log line');
      // The audit ledger keeps why, and what to do, beside the status.
      const [row] = await app.ledger.byResourceId(id);
      assert.equal(row?.status, 'blocked');
      assert.deepEqual(
        (row!.blockers as Array<{ code: string }>).map((b) => b.code),
        ['RequiresRedeploy'],
      );
      assert.doesNotMatch(JSON.stringify(row), new RegExp(SECRET), 'no secret in the ledger');
    });
  }

  it('identity-based registry auth has no password to lose: with allowRestart the group is remediated', async () => {
    const ua = `/subscriptions/${SUB_A}/resourceGroups/rg-ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/puller`;
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aci-restart',
      type: SEED_TYPES.containerGroup,
      name: 'acr-by-identity',
      properties: {
        imageRegistryCredentials: [{ server: 'contoso.azurecr.io', identity: ua }],
        containers: [container('web', { environmentVariables: [{ name: 'MODE', value: 'prod' }] })],
      },
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
  });

  it('no secrets and no allowRestart: blocked RestartNotAllowed, no PUT, no restart', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aci-plain',
      type: SEED_TYPES.containerGroup,
      name: 'plain',
    });
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'blocked', JSON.stringify(d.outcome));
    assert.deepEqual(
      d.outcome!.blockers.map((b: { code: string }) => b.code),
      ['RestartNotAllowed'],
    );
    assert.match(d.outcome!.blockers[0].detail, /restarts every container/);
    assert.match(d.outcome!.blockers[0].remedy, /allowRestart: true/);
    assert.deepEqual(writesSince(seq), []);
    assert.equal(env.emulator.state.restartCount(id), 0);
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
  });

  it('no secrets and allowRestart: one PUT, one restart recorded, identity and roles in place', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aci-restart',
      type: SEED_TYPES.containerGroup,
      name: 'restartable',
    });
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const puts = writesSince(seq).filter((r) => r.method === 'PUT' && r.path.toLowerCase() === id.toLowerCase());
    assert.equal(puts.length, 1);
    assert.equal(env.emulator.state.restartCount(id), 1);
    const identity = env.emulator.state.resource(id)!.body.identity;
    assert.equal(identity.type, 'SystemAssigned');
    assert.equal(d.outcome!.principalId, identity.principalId);
    assert.deepEqual(
      env.emulator.state.assignmentsFor(identity.principalId).map((a) => [a.scope.toLowerCase(), a.roleDefinitionGuid]),
      [[`/subscriptions/${SUB_A}/resourcegroups/rg-aci-restart`, ROLE.reader]],
    );
  });

  it('a secret added while the write waited on a conflict stops the retry: no PUT over it', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aci-restart',
      type: SEED_TYPES.containerGroup,
      name: 'redeployed-meanwhile',
    });
    const conflict = env.emulator.faults.add({
      method: 'PUT',
      path: id,
      times: 1,
      action: { kind: 'error', status: 409, code: 'AnotherOperationInProgress' },
    });
    // The re-read after the conflict is held back long enough for "someone" to redeploy the group with a secret.
    const slowReread = env.emulator.faults.add({ method: 'GET', path: id, skip: 1, times: 1, action: { kind: 'latency', ms: 400 } });
    try {
      const delivery = deliver(app, resourceWriteEvent({ resourceId: id }));
      while (conflict.hits === 0) await new Promise((r) => setTimeout(r, 5));
      const containers = env.emulator.state.resource(id)!.body.properties.containers;
      containers[0].properties.environmentVariables = [{ name: 'API_KEY', secureValue: SECRET }];
      const d = await delivery;
      assert.equal(d.outcome?.status, 'failed', JSON.stringify(d.outcome));
      assert.equal(d.outcome!.errors[0].code, 'RequiresRedeploy');
      assert.equal(d.outcome!.errors[0].transient, false);
      assert.equal(slowReread.hits, 1);
      assert.equal(env.emulator.state.restartCount(id), 0);
      assert.equal(env.emulator.state.resource(id)!.body.properties.containers[0].properties.environmentVariables[0].secureValue, SECRET);
    } finally {
      conflict.remove();
      slowReread.remove();
    }
  });

  for (const state of ['Stopped', 'Succeeded', 'Failed']) {
    it(`a ${state} group is reported (ContainerGroupNotRunning), not PUT`, async () => {
      const id = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-aci-restart',
        type: SEED_TYPES.containerGroup,
        name: `group-${state.toLowerCase()}`,
        properties: { instanceView: { state, events: [] } },
      });
      const seq = env.emulator.lastSeq;
      const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
      assert.equal(d.outcome?.status, 'blocked', JSON.stringify(d.outcome));
      assert.deepEqual(
        d.outcome!.blockers.map((b: { code: string }) => b.code),
        ['ContainerGroupNotRunning'],
      );
      assert.match(d.outcome!.blockers[0].detail, new RegExp(state));
      assert.deepEqual(writesSince(seq), []);
      assert.equal(env.emulator.state.restartCount(id), 0);
      assert.equal(env.emulator.state.resource(id)!.body.properties.instanceView.state, state);
    });
  }

  it('report mode shows the same blockers as enforce mode, and reads only', async () => {
    const secret = SECRETS[0]!;
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aci-report',
      type: SEED_TYPES.containerGroup,
      name: 'reported',
      properties: secret.properties,
    });
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'blocked', JSON.stringify(d.outcome));
    assert.equal(d.outcome!.mode, 'report');
    assert.deepEqual(
      d.outcome!.blockers.map((b: { code: string }) => b.code),
      ['RequiresRedeploy'],
    );
    assert.match(d.outcome!.blockers[0].detail, secret.field);
    assert.deepEqual(writesSince(seq), []);
  });
});
