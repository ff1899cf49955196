import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROLE } from '../../tools/arm-emulator';
import { SEED_TYPES, seedResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { rejectsWith } from '../support/assertions';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator();
const roleId = (guid: string) => `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const WEB_API = '2024-04-01';
const VM_API = '2024-07-01';
/** Timers may fire a millisecond early relative to Date.now(); lower bounds allow for that only. */
const CLOCK_SLACK_MS = 15;

let ownerGranted = false;
/** The app principal is Owner of the subscription (granted once, at the first test's start). */
function grantAppOwner(): void {
  if (ownerGranted) return;
  env.emulator.state.grant({ principalId: env.emulator.appPrincipal.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${SUB_A}` });
  ownerGranted = true;
}

beforeEach(grantAppOwner);

function webApp(resourceGroup: string, name: string, identity?: Record<string, unknown>): string {
  return seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup, type: SEED_TYPES.webApp, name, identity });
}

/** Requests since `seq` whose path contains `fragment`. */
function callsTo(seq: number, fragment: string) {
  return env.emulator.requestsSince(seq).filter((r) => r.path.toLowerCase().includes(fragment.toLowerCase()));
}

describe('directory replication', () => {
  it('a brand-new principal is PrincipalNotFound until it has replicated', async () => {
    const { directory } = env.emulator.state;
    directory.replicationDelayMs = 1500;
    try {
      env.emulator.state.addResourceGroup(SUB_A, 'rg-repl');
      const { msi, authorization } = env.clients();
      const ua = await msi.userAssignedIdentities.createOrUpdate('rg-repl', 'id-fresh', { location: 'westeurope' });
      const principalId = ua.principalId!;
      assert.ok(directory.get(principalId), 'the principal exists at once');
      const scope = `/subscriptions/${SUB_A}/resourceGroups/rg-repl`;
      const params = { roleDefinitionId: roleId(ROLE.reader), principalId, principalType: 'ServicePrincipal' as const };
      const name = randomUUID();

      await rejectsWith(authorization.roleAssignments.create(scope, name, params), 400, 'PrincipalNotFound');
      assert.deepEqual(env.emulator.state.assignmentsFor(principalId), []);

      const replicatedAt = directory.get(principalId)!.createdAt + directory.replicationDelayMs;
      await sleep(Math.max(0, replicatedAt - Date.now()) + 20);
      const created = await authorization.roleAssignments.create(scope, name, params);
      assert.equal(created.principalId, principalId);
      assert.equal(env.emulator.state.assignmentsFor(principalId).length, 1);
    } finally {
      directory.replicationDelayMs = 0;
    }
  });

  it('deleting a resource with a system-assigned identity removes its principal', async () => {
    const id = webApp('rg-gone', 'web-gone', { type: 'SystemAssigned' });
    const principalId = env.emulator.state.resource(id)!.body.identity.principalId as string;
    const { resources, authorization } = env.clients();
    const scope = `/subscriptions/${SUB_A}/resourceGroups/rg-gone`;
    // While the resource lives, its principal can be granted roles.
    await authorization.roleAssignments.create(scope, randomUUID(), {
      roleDefinitionId: roleId(ROLE.reader),
      principalId,
      principalType: 'ServicePrincipal',
    });

    await resources.resources.beginDeleteByIdAndWait(id, WEB_API, { updateIntervalInMs: 10 });
    assert.equal(env.emulator.state.resource(id), undefined);
    assert.equal(env.emulator.state.directory.get(principalId), undefined);
    await rejectsWith(
      authorization.roleAssignments.create(scope, randomUUID(), {
        roleDefinitionId: roleId(ROLE.contributor),
        principalId,
        principalType: 'ServicePrincipal',
      }),
      400,
      'PrincipalNotFound',
    );
  });

  it('deleting a resource group removes the principals of the identities in it (system- and user-assigned)', async () => {
    const ua = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-doomed', name: 'id-doomed' });
    const id = webApp('rg-doomed', 'web-doomed', { type: 'SystemAssigned' });
    const systemPrincipal = env.emulator.state.resource(id)!.body.identity.principalId as string;
    const userPrincipal = ua.properties.principalId as string;
    const { resources, authorization } = env.clients();
    await resources.resourceGroups.beginDeleteAndWait('rg-doomed', { updateIntervalInMs: 10 });
    assert.equal(env.emulator.state.resource(ua.id), undefined);
    const scope = `/subscriptions/${SUB_A}`;
    for (const principalId of [systemPrincipal, userPrincipal]) {
      await rejectsWith(
        authorization.roleAssignments.create(scope, randomUUID(), {
          roleDefinitionId: roleId(ROLE.reader),
          principalId,
          principalType: 'ServicePrincipal',
        }),
        400,
        'PrincipalNotFound',
      );
    }
  });
});

describe('long-running operations', () => {
  it('a second PATCH during a running VM operation gets 409 AnotherOperationInProgress, then succeeds', async () => {
    const { lro } = env.emulator;
    const saved = { ...lro };
    lro.durationMs = 600;
    try {
      const id = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-vm-busy',
        type: SEED_TYPES.virtualMachine,
        name: 'vm-busy',
      });
      const { resources } = env.clients();
      const poller = await resources.resources.beginUpdateById(
        id,
        VM_API,
        { identity: { type: 'SystemAssigned' } },
        { updateIntervalInMs: 50 },
      );
      assert.equal(env.emulator.state.resource(id)!.body.properties.provisioningState, 'Updating');

      await rejectsWith(
        resources.resources.beginUpdateByIdAndWait(id, VM_API, { tags: { second: 'write' } }, { updateIntervalInMs: 50 }),
        409,
        'AnotherOperationInProgress',
      );
      assert.deepEqual(env.emulator.state.resource(id)!.body.tags, {}, 'the refused PATCH wrote nothing');

      const first = await poller.pollUntilDone();
      lro.durationMs = 0;
      assert.match(first.identity?.principalId ?? '', /^[0-9a-f-]{36}$/);
      assert.equal((first.properties as { provisioningState?: string }).provisioningState, 'Succeeded');

      const second = await resources.resources.beginUpdateByIdAndWait(
        id,
        VM_API,
        { tags: { second: 'write' } },
        { updateIntervalInMs: 50 },
      );
      assert.deepEqual(second.tags, { second: 'write' });
      assert.equal(second.identity?.principalId, first.identity?.principalId, 'the identity survives the tags PATCH');
    } finally {
      Object.assign(lro, saved);
    }
  });
});

describe('fault injection', () => {
  it('delete-resource with skip: 1: the GET works, the PATCH finds the resource gone (404)', async () => {
    const id = webApp('rg-vanish', 'web-vanish');
    const fault = env.emulator.faults.add({ path: 'web-vanish', skip: 1, times: 1, action: { kind: 'delete-resource' } });
    try {
      const { resources } = env.clients();
      const got = await resources.resources.getById(id, WEB_API);
      assert.equal(got.id, id);
      await rejectsWith(
        resources.resources.beginUpdateByIdAndWait(id, WEB_API, { identity: { type: 'SystemAssigned' } }, { updateIntervalInMs: 10 }),
        404,
        'ResourceNotFound',
      );
      assert.equal(env.emulator.state.resource(id), undefined);
      assert.equal(fault.seen, 2);
      assert.equal(fault.hits, 1);
    } finally {
      fault.remove();
    }
  });

  it('a latency fault delays the answer by at least its ms', async () => {
    const id = webApp('rg-slow', 'web-slow');
    const ms = 250;
    const fault = env.emulator.faults.add({ path: 'web-slow', times: 1, action: { kind: 'latency', ms } });
    try {
      const seq = env.emulator.lastSeq;
      const started = Date.now();
      const got = await env.clients().resources.resources.getById(id, WEB_API);
      const elapsed = Date.now() - started;
      assert.equal(got.id, id);
      assert.ok(elapsed >= ms - CLOCK_SLACK_MS, `took ${elapsed} ms`);
      const [call] = callsTo(seq, 'web-slow');
      assert.equal(call!.status, 200);
      assert.ok(call!.durationMs >= ms - CLOCK_SLACK_MS, `the emulator logged ${call!.durationMs} ms`);
      assert.equal(fault.hits, 1);
    } finally {
      fault.remove();
    }
  });

  it('operation and path matching: a write fault leaves GETs alone, and times limits its hits', async () => {
    const id = webApp('rg-match', 'web-match');
    const other = webApp('rg-match', 'web-other');
    const fault = env.emulator.faults.add({
      operation: 'write',
      path: /\/sites\/web-match$/i,
      times: 2,
      action: { kind: 'error', status: 409, code: 'Conflict', message: 'Injected conflict.' },
    });
    try {
      const { resources } = env.clients();
      const patch = (target: string, n: number) =>
        resources.resources.beginUpdateByIdAndWait(target, WEB_API, { kind: `app-${n}` }, { updateIntervalInMs: 10 });

      assert.equal((await resources.resources.getById(id, WEB_API)).id, id);
      assert.equal(fault.seen, 0, 'a GET does not even match a write fault');

      await rejectsWith(patch(id, 1), 409, 'Conflict');
      assert.equal((await patch(other, 1)).kind, 'app-1', 'another path is not affected');
      await rejectsWith(patch(id, 2), 409, 'Conflict');
      assert.equal((await patch(id, 3)).kind, 'app-3', 'after `times` hits the fault stops');
      assert.equal(fault.hits, 2);
      assert.equal(fault.seen, 3);
      assert.equal(env.emulator.state.resource(id)!.body.kind, 'app-3');
    } finally {
      fault.remove();
    }
  });
});

describe('throttling', () => {
  it('a token bucket of 3 writes: the 4th quick write gets 429 with Retry-After and the remaining-writes header', async () => {
    const id = webApp('rg-throttle', 'web-throttle');
    env.emulator.throttle.enable({ write: { capacity: 3, refillPerSecond: 1 } });
    try {
      const results = [];
      for (let n = 0; n < 4; n++)
        results.push(await rawArm(env.emulator, 'PATCH', `${id}?api-version=${WEB_API}`, { body: { kind: `app-${n}` } }));
      assert.deepEqual(
        results.map((r) => r.status),
        [200, 200, 200, 429],
      );
      assert.deepEqual(
        results.slice(0, 3).map((r) => r.headers['x-ms-ratelimit-remaining-subscription-writes']),
        ['2', '1', '0'],
      );
      const throttled = results[3]!;
      assert.equal(throttled.json.error.code, 'TooManyRequests');
      assert.equal(throttled.headers['retry-after'], '1');
      assert.equal(throttled.headers['x-ms-ratelimit-remaining-subscription-writes'], '0');
      assert.equal(env.emulator.state.resource(id)!.body.kind, 'app-2', 'the throttled write was not applied');

      // Reads have their own bucket.
      const read = await rawArm(env.emulator, 'GET', `${id}?api-version=${WEB_API}`);
      assert.equal(read.status, 200);
      assert.ok(Number(read.headers['x-ms-ratelimit-remaining-subscription-reads']) > 0);
    } finally {
      env.emulator.throttle.disable();
    }
    const after = await rawArm(env.emulator, 'PATCH', `${id}?api-version=${WEB_API}`, { body: { kind: 'app-after' } });
    assert.equal(after.status, 200);
    assert.equal(after.headers['x-ms-ratelimit-remaining-subscription-writes'], undefined);
  });

  it("the global bucket (15 x one principal's, shared by every principal) sends the -global- headers and throttles every principal once empty", async () => {
    const id = webApp('rg-throttle-global', 'web-throttle-global');
    const other = env.emulator.state.directory.create({ displayName: 'another deployment pipeline' });
    env.emulator.state.grant({ principalId: other.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${SUB_A}` });
    // Learn: the global limits are 15 times the per-principal ones (writes 200 + 10/s -> 3,000 + 150/s).
    const app = env.emulator.appPrincipal;
    env.emulator.throttle.enable();
    try {
      const first = await rawArm(env.emulator, 'PATCH', `${id}?api-version=${WEB_API}`, { body: { kind: 'app-first' } });
      assert.equal(first.status, 200);
      assert.equal(first.headers['x-ms-ratelimit-remaining-subscription-writes'], '199');
      assert.equal(first.headers['x-ms-ratelimit-remaining-subscription-global-writes'], '2999');
      const read = await rawArm(env.emulator, 'GET', `${id}?api-version=${WEB_API}`);
      assert.equal(read.headers['x-ms-ratelimit-remaining-subscription-reads'], '249');
      assert.equal(read.headers['x-ms-ratelimit-remaining-subscription-global-reads'], '3749');
      // A small, slowly refilled global bucket: the two principals' writes take from it in turn.
      env.emulator.throttle.enable({ write: { capacity: 50, refillPerSecond: 0.01 } }, { write: { capacity: 4, refillPerSecond: 0.01 } });
      const seen: Array<[string | undefined, string | undefined]> = [];
      for (const [n, who] of [app, other, app, other].entries()) {
        const r = await rawArm(env.emulator, 'PATCH', `${id}?api-version=${WEB_API}`, { body: { kind: `app-g${n}` }, principal: who });
        assert.equal(r.status, 200);
        seen.push([
          r.headers['x-ms-ratelimit-remaining-subscription-writes'] as string,
          r.headers['x-ms-ratelimit-remaining-subscription-global-writes'] as string,
        ]);
      }
      assert.deepEqual(seen, [
        ['49', '3'],
        ['49', '2'],
        ['48', '1'],
        ['48', '0'],
      ]);
      // The app's own bucket still holds 48 tokens, yet the emptied global bucket throttles it.
      const refused = await rawArm(env.emulator, 'PATCH', `${id}?api-version=${WEB_API}`, { body: { kind: 'app-refused' } });
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
      assert.equal(refused.headers['x-ms-ratelimit-remaining-subscription-global-writes'], '0');
      assert.equal(refused.headers['x-ms-ratelimit-remaining-subscription-writes'], '48', 'the refused request took no token');
      assert.equal(env.emulator.state.resource(id)!.body.kind, 'app-g3');
    } finally {
      env.emulator.throttle.disable();
    }
  });
});
