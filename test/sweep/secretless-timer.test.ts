/**
 * Issue 25 item 4, the app's half: `secretless: { migrate: true }` on a rule lets the timer sweep migrate
 * the rule's Dapr components itself, through the same preconditions as the CLI's `--migrate`. Through the
 * real timer trigger against the emulator: refused (with the reason) while the grant is younger than the
 * window; migrated once it is older (the key metadata and its secret gone from the emulator's component, one
 * ledger row); a component whose app's rule does not opt in is never touched.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { runSweep } from '../../src/sweep';
import { InMemoryRemediationQueue } from '../../src/sweep/remediation-queue';
import { InMemoryReportStore, type SweepReport } from '../../src/sweep/report';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { compileKql } from '../../tools/arm-emulator/kql';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { PLANTED, SECRETLESS_RULES, seedKeyStateStore, seedSecretlessEstate } from '../support/secretless-estate';
import { buildSweepApp, runTimerSweep } from './fixture';

const RG = 'rg-secretless-timer';
const ENV = `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.App/managedEnvironments/env-demo`;
const env = useEmulator({ subscriptions: [SUB_A] });

/** The shared secretless rules (`dapr: system`, no opt-in) plus a rule for `dapr: migrate` apps that opts in. */
const RULES = `${SECRETLESS_RULES}  - name: dapr-migrate
    match: { tags: { dapr: migrate } }
    identity: { kind: SystemAssigned }
    dapr: { targets: { resourceGroups: ["{resourceGroup}"] } }
    secretless: { migrate: true }
`;

describe('secretless: the timer sweep migrates the components of rules that opt in', () => {
  let app: Autopilot;
  const reports = new InMemoryReportStore();
  const component = (name: string) => env.emulator.state.resource(`${ENV}/daprComponents/${name}`)!.body.properties;
  const metadataNames = (name: string) => component(name).metadata.map((m: { name: string }) => m.name);
  const lastReport = () => JSON.parse(reports.reports.at(-1)!.json) as SweepReport;

  before(async () => {
    grantAppOwner(env.emulator);
    seedSecretlessEstate(env.emulator.state, PLANTED, RG, SUB_A);
    // A second key-based state store on the same account, loaded by an app whose rule does not opt in.
    seedKeyStateStore(env.emulator.state, ENV, 'other-state', { appId: 'ca-other', planted: PLANTED });
    compileKql('resources | take 1');
    app = buildSweepApp(env, rulesFor(RULES), { sweep: { queue: new InMemoryRemediationQueue(), reports } });
    for (const [name, tag] of [
      ['ca-orders', 'migrate'],
      ['ca-other', 'system'],
    ] as const) {
      const id = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: RG,
        type: SEED_TYPES.containerApp,
        name,
        tags: { dapr: tag },
      });
      const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
      assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome?.errors));
    }
  });

  it('leaves the component while the grant is younger than the window, and says why', async () => {
    const logs = await runTimerSweep(app);
    const migrations = lastReport().secretless?.migrations ?? [];
    assert.deepEqual(
      migrations.map((m) => [m.name, m.status]),
      [['orders-state', 'refused']],
    );
    assert.match(migrations[0]!.detail, /min old; role assignments take up to 15 min to apply/);
    assert.ok(logs.some((l) => l.event === 'sweep.secretless.refused'));
    assert.ok(metadataNames('orders-state').includes('accountKey'));
  });

  it("migrates it once the grant is older than the window: key metadata and secret gone, one ledger row; the other rule's component untouched", async () => {
    // Time passes: the role assignments were made 20 minutes ago.
    const old = new Date(Date.now() - 20 * 60_000).toISOString();
    for (const a of env.emulator.state.roleAssignments.values()) a.createdOn = old;
    // The CLI's sweep writes with the user's rights before it asks about its fixes: without --yes it migrates nothing.
    const cli = await runSweep(app, { trigger: 'cli' });
    assert.equal(cli.secretless?.migrations, undefined);
    assert.ok(metadataNames('orders-state').includes('accountKey'), 'the CLI sweep without --yes left the component alone');
    const logs = await runTimerSweep(app);
    const migrations = lastReport().secretless?.migrations ?? [];
    assert.deepEqual(
      migrations.map((m) => [m.name, m.status]),
      [['orders-state', 'migrated']],
    );
    assert.match(migrations[0]!.detail, /accountKey removed; secret\(s\) storage-key removed; azureClientId unchanged/);
    assert.match(reports.reports.at(-1)!.markdown, /^- orders-state\\: migrated\\: orders-state\\: key -&gt; managed identity/m);
    assert.match(reports.reports.at(-1)!.html, /<ul id="secretless-migrations"><li>orders-state: migrated: /);
    assert.deepEqual(metadataNames('orders-state'), ['accountName', 'containerName']);
    assert.deepEqual(component('orders-state').secrets ?? [], []);
    // The rule without the opt-in: its component keeps its key, and is not even listed.
    assert.deepEqual(metadataNames('other-state'), ['accountName', 'containerName', 'accountKey']);
    assert.deepEqual(
      component('other-state').secrets.map((s: { name: string }) => s.name),
      ['key'],
    );
    const rows = await app.ledger.byResourceId(`${ENV}/daprComponents/orders-state`);
    assert.equal(rows.length, 1);
    assert.match(JSON.stringify(rows[0]), /DaprComponentMigrated/);
    assert.ok(!JSON.stringify([logs, lastReport(), rows]).includes(PLANTED), 'no secret value in any output');
    // The next sweep finds nothing more to do.
    await runTimerSweep(app);
    assert.equal(lastReport().secretless?.migrations, undefined);
  });
});
