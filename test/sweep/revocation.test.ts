/**
 * Issue 22, items 3 and 4: the timer sweep finds owned grants the rules no longer give (a profile removed
 * from the rules, a re-pointed kv-id tag, withdrawn consent) and orphans, lists them in report mode (the
 * resource is not compliant), removes them in enforce mode, and stops at the mass-revocation guard.
 * Everything goes through the real triggers (Event Grid to grant, the timer to sweep) against the emulator;
 * the assertions read the emulator's state and request log: what was removed and what was kept.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Timer } from '@azure/functions';
import type { Autopilot } from '../../src/app/composition';
import { renderOutcome } from '../../src/cli/render';
import { triggerNamed } from '../../src/functions/triggers';
import { InMemoryRemediationQueue } from '../../src/sweep/remediation-queue';
import { InMemoryReportStore, type SweepReport } from '../../src/sweep/report';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { seedScopeResource } from '../../tools/arm-emulator/seed';
import { type CapturedLog, deliver, grantAppOwner, rulesFor, testInvocation } from '../support/app-fixture';
import { EASY_AUTH_ON } from '../support/easy-auth';
import { useEmulator } from '../support/emulator-fixture';
import { call } from '../support/http-api';
import { buildSweepApp, SUB_A, seedSite } from './fixture';

const KV_SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb';
const vault = (name: string) => `/subscriptions/${SUB_A}/resourceGroups/rg-vaults/providers/Microsoft.KeyVault/vaults/${name}`;

/** v1: every web app gets its tagged vault (consent required) and the monitoring profile. */
const rulesYaml = (options: { profiles?: string; lifecycle?: string } = {}) => `
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  resourceGroups: ["rg-*"]
  resourceTypes: [Microsoft.Web/sites]
profiles:
  vault:
    roles:
      - role: Key Vault Secrets User
        scope: "{tag:kv-id}"
        tagScope:
          resourceTypes: [Microsoft.KeyVault/vaults]
          resourceGroups: ["rg-vaults"]
          consentTag: kv-consumers
  monitoring:
    roles:
      - role: Monitoring Metrics Publisher
        scope: "{resourceId}"
rules:
  - name: web
    identity: { kind: SystemAssigned }
    profiles: ${options.profiles ?? '[vault, monitoring]'}
${options.lifecycle ?? ''}`;

const env = useEmulator({ subscriptions: [SUB_A] });

describe('revocation and orphan collection through the timer sweep', () => {
  const ids: Record<string, string> = {};
  const principal = (id: string): string => env.emulator.state.resource(id)!.body.identity.principalId;
  const held = (id: string) =>
    env.emulator.state
      .assignmentsFor(principal(id))
      .map((a) => `${a.roleDefinitionGuid}@${a.scope.toLowerCase()}`)
      .sort();

  /** The app under these rules, sweeping from the timer with an in-memory queue and report store. */
  function appWith(yaml: string, settings: Record<string, string> = {}): { app: Autopilot; reports: InMemoryReportStore } {
    const reports = new InMemoryReportStore();
    const app = buildSweepApp(env, rulesFor(yaml), { sweep: { queue: new InMemoryRemediationQueue(), reports }, settings });
    return { app, reports };
  }

  async function timerSweep(
    yaml: string,
    settings: Record<string, string> = {},
  ): Promise<{ report: SweepReport; logs: CapturedLog[]; app: Autopilot }> {
    const { app, reports } = appWith(yaml, settings);
    const logs: CapturedLog[] = [];
    const timer = triggerNamed('timer', 'complianceSweep', () => app);
    await timer.handler({ isPastDue: false } as Timer, testInvocation('complianceSweep', logs));
    return { report: JSON.parse(reports.reports.at(-1)!.json) as SweepReport, logs, app };
  }

  const deletes = (since: number) =>
    env.emulator
      .requestsSince(since, { writesOnly: true })
      .filter((r) => r.method === 'DELETE')
      .map((r) => r.path.toLowerCase());

  before(async () => {
    grantAppOwner(env.emulator, SUB_A);
    env.emulator.resourceGraph.setQuota({ limit: 1000, windowMs: 1000 });
    env.emulator.state.addResourceGroup(SUB_A, 'rg-vaults');
    for (const name of ['kv-a', 'kv-b', 'kv-c'])
      seedScopeResource(env.emulator.state, vault(name), 'westeurope', { 'kv-consumers': 'rg-apps' });
    ids.repointed = seedSite(env, SUB_A, 'rg-apps', 'web-repointed', { 'kv-id': vault('kv-a') });
    ids.consent = seedSite(env, SUB_A, 'rg-apps', 'web-consent', { 'kv-id': vault('kv-c') });
    ids.gone = seedSite(env, SUB_A, 'rg-apps', 'web-gone', { 'kv-id': vault('kv-b') });
    const { app } = appWith(rulesYaml());
    for (const id of Object.values(ids)) {
      const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
      assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    }
    assert.deepEqual(
      held(ids.repointed),
      [`${METRICS_PUBLISHER}@${ids.repointed.toLowerCase()}`, `${KV_SECRETS_USER}@${vault('kv-a').toLowerCase()}`].sort(),
    );
  });

  it('report mode (the default): a re-pointed tag, withdrawn consent and a removed profile are listed with their reason, the resources are not compliant, nothing is deleted', async () => {
    // Someone re-points web-repointed's tag, kv-c's owner withdraws consent, the rules drop the monitoring profile.
    env.emulator.state.resource(ids.repointed)!.body.tags['kv-id'] = vault('kv-b');
    env.emulator.state.resource(vault('kv-c'))!.body.tags = {};
    const before = env.emulator.lastSeq;
    const { report } = await timerSweep(rulesYaml({ profiles: '[vault]' }));
    assert.deepEqual(deletes(before), [], 'report mode deletes nothing');
    const lines = report.revocations!.items.map(
      (i) => `${i.resourceId.split('/').pop()}: ${i.role} @ ${i.scope.split('/').pop()} (${i.reason})`,
    );
    assert.ok(lines.includes('web-repointed: Key Vault Secrets User @ kv-a (tag kv-id now names kv-b)'), lines.join('\n'));
    assert.ok(
      lines.some((l) => /^web-consent: Key Vault Secrets User @ kv-c \(consent withdrawn: .*'kv-consumers' tag does not list/.test(l)),
      lines.join('\n'),
    );
    for (const site of ['web-repointed', 'web-consent', 'web-gone'])
      assert.ok(
        lines.includes(`${site}: Monitoring Metrics Publisher @ ${site} (profile 'monitoring' no longer applies to it)`),
        lines.join('\n'),
      );
    assert.equal(report.revocations!.excess, 5);
    assert.ok(report.revocations!.items.every((i) => i.status === 'listed' && i.revoke === 'report'));
    assert.equal(report.totals.compliant, 0, 'a resource holding an excess grant is not compliant');
    assert.equal(report.problems['excess-grants'], 3);
    assert.equal(env.emulator.state.assignmentsFor(principal(ids.consent)).length, 2, 'still held');
    // The role-assignment budget's count, per governed subscription (also the autopilot.role_assignments metric).
    assert.deepEqual(report.roleAssignments, { [SUB_A]: env.emulator.state.roleAssignments.size });
  });

  it('a rule that stopped matching: every owned grant of the workloads it governed is listed as excess with that reason', async () => {
    // The rule now matches another resource group only: the sites are governed by scope but no rule matches them.
    const yaml = rulesYaml().replace(
      '  - name: web\n',
      '  - name: web\n    match: { types: [Microsoft.Web/sites], resourceGroups: ["rg-elsewhere"] }\n',
    );
    const before = env.emulator.lastSeq;
    const { report } = await timerSweep(yaml);
    assert.deepEqual(deletes(before), [], 'report mode deletes nothing');
    const reasons = new Set(report.revocations!.items.map((i) => i.reason));
    assert.deepEqual([...reasons], ['no rule matches it any more'], JSON.stringify(report.revocations));
    const total = Object.values(ids).reduce((n, id) => n + env.emulator.state.assignmentsFor(principal(id)).length, 0);
    assert.equal(report.revocations!.excess, total, 'every owned grant of the three sites');
  });

  it('the HTTP plan answer and the CLI rendering show the removals with their reason; plan mode deletes nothing', async () => {
    const { app } = appWith(rulesYaml({ profiles: '[vault]' }), { ...EASY_AUTH_ON });
    const before = env.emulator.lastSeq;
    const answer = await call(app, 'remediationsPost', {
      method: 'POST',
      url: 'http://localhost/api/remediations',
      headers: { 'content-type': 'application/json' },
      body: { string: JSON.stringify({ resourceId: ids.repointed, mode: 'plan' }) },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const outcome = answer.body.outcome;
    assert.equal(outcome.status, 'planned');
    assert.deepEqual(
      outcome.revocations
        .map((r: { role: string; scope: string; reason: string; revoke: string }) => [r.role, r.scope.split('/').pop(), r.reason, r.revoke])
        .sort(),
      [
        ['Key Vault Secrets User', 'kv-a', 'tag kv-id now names kv-b', 'report'],
        ['Monitoring Metrics Publisher', 'web-repointed', "profile 'monitoring' no longer applies to it", 'report'],
      ],
    );
    const text = renderOutcome(outcome, 'req');
    assert.match(text, /^- Key Vault Secrets User @ kv-a \(tag kv-id now names kv-b\)$/m);
    assert.deepEqual(deletes(before), []);
  });

  it('the mass-revocation guard: more than lifecycle.maxRevocations revokes nothing and alerts', async () => {
    const yaml = rulesYaml({ profiles: '[vault]', lifecycle: 'lifecycle:\n  revoke: enforce\n  maxRevocations: 4' });
    const before = env.emulator.lastSeq;
    const { report, logs } = await timerSweep(yaml);
    assert.deepEqual(deletes(before), [], 'the guard tripped: nothing is deleted');
    assert.equal(report.revocations!.guard?.code, 'MassRevocationGuard');
    assert.equal(report.revocations!.guard?.count, 5);
    assert.ok(report.revocations!.items.every((i) => i.status === 'held'));
    assert.ok(
      logs.some((l) => l.record.event === 'sweep.revocation-guard' && l.level === 'error'),
      'an alert is logged',
    );
    assert.equal(env.emulator.state.assignmentsFor(principal(ids.consent)).length, 2);
  });

  it('AUTOPILOT_REVOCATION_MODE=report holds back removals the rules enforce: every grant is listed, nothing is deleted', async () => {
    const yaml = rulesYaml({ profiles: '[vault]', lifecycle: 'lifecycle:\n  revoke: enforce\n  maxRevocations: 50' });
    const before = env.emulator.lastSeq;
    const { report } = await timerSweep(yaml, { AUTOPILOT_REVOCATION_MODE: 'report' });
    assert.deepEqual(deletes(before), [], 'the deployment setting holds every removal back');
    assert.equal(report.revocations!.guard, undefined);
    assert.equal(report.revocations!.removed, 0);
    assert.equal(report.revocations!.excess, 5);
    assert.ok(report.revocations!.items.every((i) => i.status === 'listed' && i.revoke === 'enforce'));
  });

  it('enforce mode (confirmed past the guard by AUTOPILOT_CONFIRM_MASS_REVOCATION) removes exactly the excess grants (re-checked through ARM) and keeps what the rules still give and what a person made', async () => {
    // A person copies the product's description onto their own assignment: ARM's createdBy is not the app.
    const copied = env.emulator.state.grant({
      principalId: principal(ids.consent),
      roleDefinitionGuid: METRICS_PUBLISHER,
      scope: vault('kv-a'),
    });
    copied.description = `identity-autopilot: rule 'web', profile 'monitoring', for ${ids.consent}`;
    const excess = (id: string, guid: string, scope: string) =>
      env.emulator.state
        .assignmentsFor(principal(id))
        .find((a) => a.roleDefinitionGuid === guid && a.scope.toLowerCase() === scope.toLowerCase())!
        .id.toLowerCase();
    const expected = [
      excess(ids.repointed, KV_SECRETS_USER, vault('kv-a')),
      excess(ids.consent, KV_SECRETS_USER, vault('kv-c')),
      ...Object.values(ids).map((id) => excess(id, METRICS_PUBLISHER, id)),
    ].sort();
    const kept = excess(ids.gone, KV_SECRETS_USER, vault('kv-b'));
    const before = env.emulator.lastSeq;
    // Over the guard's limit of 4 again, now confirmed by the timer's app setting.
    const { report, app } = await timerSweep(
      rulesYaml({ profiles: '[vault]', lifecycle: 'lifecycle:\n  revoke: enforce\n  maxRevocations: 4' }),
      {
        AUTOPILOT_CONFIRM_MASS_REVOCATION: 'true',
      },
    );
    assert.equal(report.revocations!.guard, undefined);
    assert.deepEqual(deletes(before).sort(), expected, 'one DELETE per excess grant, nothing else');
    assert.equal(report.revocations!.removed, 5);
    for (const id of expected) assert.equal(env.emulator.state.roleAssignments.get(id), undefined, id);
    assert.ok(env.emulator.state.roleAssignments.get(kept), 'the grant the rules still give is kept');
    assert.ok(env.emulator.state.roleAssignments.get(copied.id.toLowerCase()), 'a copied description proves nothing: kept');
    // Each removal is in the ledger, under the workload it was made for, with its reason.
    const [entry] = await app.ledger.byResourceId(ids.repointed);
    assert.deepEqual(entry?.removed?.map((r: { status: string; reason: string }) => [r.status, r.reason]).sort(), [
      ['removed', "revoked: profile 'monitoring' no longer applies to it"],
      ['removed', 'revoked: tag kv-id now names kv-b'],
    ]);
  });

  it("orphans: an owned grant of a deleted workload is removed; the same dead principal's grant a person made is listed, never deleted", async () => {
    const dead = principal(ids.gone);
    const byPerson = env.emulator.state.grant({ principalId: dead, roleDefinitionGuid: METRICS_PUBLISHER, scope: vault('kv-b') });
    const ours = env.emulator.state.assignmentsFor(dead).filter((a) => a.id !== byPerson.id);
    assert.equal(ours.length, 1);
    env.emulator.state.deleteResource(ids.gone);
    const before = env.emulator.lastSeq;
    const { report } = await timerSweep(rulesYaml({ profiles: '[vault]', lifecycle: 'lifecycle:\n  revoke: enforce' }));
    assert.deepEqual(deletes(before), [ours[0]!.id.toLowerCase()]);
    const orphan = report.revocations!.items.find((i) => i.kind === 'orphan')!;
    assert.match(orphan.reason, /principal no longer exists/);
    assert.equal(orphan.status, 'removed');
    assert.deepEqual(
      report.revocations!.foreign.map((f) => f.assignmentId.toLowerCase()),
      [byPerson.id.toLowerCase()],
    );
    assert.ok(env.emulator.state.roleAssignments.get(byPerson.id.toLowerCase()), 'the orphan the product did not make is kept');
  });

  it('the Event Grid trigger under enforce: re-pointing kv-id grants the new vault and removes the old grant at once; under report it is kept (the sweep lists it)', async () => {
    const id = seedSite(env, SUB_A, 'rg-apps', 'web-event', { 'kv-id': vault('kv-a') });
    const enforce = appWith(rulesYaml({ profiles: '[vault]', lifecycle: 'lifecycle:\n  revoke: enforce' })).app;
    assert.equal((await deliver(enforce, resourceWriteEvent({ resourceId: id }))).outcome?.status, 'remediated');
    const old = env.emulator.state.assignmentsFor(principal(id))[0]!;
    env.emulator.state.resource(id)!.body.tags['kv-id'] = vault('kv-b');

    const report = appWith(rulesYaml({ profiles: '[vault]' })).app;
    let before = env.emulator.lastSeq;
    const listed = (await deliver(report, resourceWriteEvent({ resourceId: id }))).outcome!;
    assert.deepEqual(deletes(before), [], 'report: nothing removed');
    assert.equal(listed.revocations, undefined, 'an apply under report does not look for excess (the sweep lists it)');
    assert.ok(env.emulator.state.roleAssignments.get(old.id.toLowerCase()));

    before = env.emulator.lastSeq;
    const d = await deliver(enforce, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.deepEqual(deletes(before), [old.id.toLowerCase()]);
    assert.deepEqual(
      d.outcome?.removed.map((r: { status: string; reason: string }) => [r.status, r.reason]),
      [['removed', 'revoked: tag kv-id now names kv-b']],
    );
    assert.deepEqual(held(id), [`${KV_SECRETS_USER}@${vault('kv-b').toLowerCase()}`]);
  });
});
