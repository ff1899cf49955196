import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmulatorState, ROLE, restoreState, SEED_TYPES, seedResource, snapshotState } from '../../tools/arm-emulator';

const SUB = '11111111-1111-4111-8111-111111111111';

describe('emulator: state snapshot (the sandbox between CLI commands, issue 24 D20)', () => {
  it('a snapshot read back as JSON restores resources, assignments and principals over a fresh seed; what it lacks is gone', () => {
    const before = new EmulatorState();
    const site = seedResource(before, { subscriptionId: SUB, resourceGroup: 'rg-a', type: SEED_TYPES.webApp, name: 'app-a' });
    const principal = before.directory.create({ displayName: 'app-a identity' });
    before.resource(site)!.body.identity = { type: 'SystemAssigned', principalId: principal.id };
    const assignment = before.grant({ principalId: principal.id, roleDefinitionGuid: ROLE.reader, scope: site });
    const snapshot = JSON.parse(JSON.stringify(snapshotState(before)));

    const after = new EmulatorState();
    const seededOnly = seedResource(after, { subscriptionId: SUB, resourceGroup: 'rg-b', type: SEED_TYPES.webApp, name: 'app-b' });
    const own = after.directory.create({ displayName: 'this run' });
    restoreState(after, snapshot);
    assert.equal(after.resource(site)!.body.identity.principalId, principal.id);
    assert.deepEqual(
      after.assignmentsFor(principal.id).map((a) => a.id),
      [assignment.id],
    );
    assert.ok(after.directory.isReplicated(principal.id), 'the principal is back, as old as it was');
    assert.ok(after.directory.get(own.id), "this run's own principals stay");
    assert.equal(after.resource(seededOnly), undefined, 'the snapshot is the estate: a resource it lacks is not there');
    assert.throws(() => restoreState(after, { ...snapshot, format: 'something-else' }), /not an emulator snapshot/);
  });
});
