/**
 * Issue 25, "done when": no secret value appears in any log, ledger row, event or report. A recognisable
 * value is planted in Dapr components (write-only inline secrets, and a plain `connectionString` value,
 * which a GET does return), then the real paths run: the Event Grid trigger (logs, the outcome, its ledger
 * rows in Table storage on Azurite, its CloudEvent on the emulator's topic) and a report-only sweep with
 * the secretless section (its logs, JSON, Markdown and HTML). Every output is searched for the value.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createLogger } from '../../src/logging/logger';
import { InMemoryReportStore, runSweep } from '../../src/sweep';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { compileKql } from '../../tools/arm-emulator/kql';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { PLANTED, SECRETLESS_RULES, seedSecretlessEstate } from '../support/secretless-estate';

const RG = 'rg-planted';
const env = useEmulator({ subscriptions: [SUB_A] });
const storage = useAzurite();

describe('secretless: a planted secret value reaches no output', () => {
  before(() => {
    grantAppOwner(env.emulator);
    seedSecretlessEstate(env.emulator.state, PLANTED, RG, SUB_A);
    compileKql('resources | take 1');
  });

  it('logs, ledger rows, the outcome event, and the sweep report (JSON, Markdown, HTML) never hold it', async () => {
    const app = buildApp(
      env,
      rulesFor(SECRETLESS_RULES),
      {},
      {
        AUTOPILOT_LEDGER_CONNECTION_STRING: storage.azurite.connectionString,
        AUTOPILOT_LEDGER_TABLE: 'secretless',
        AUTOPILOT_OUTCOME_TOPIC_ENDPOINT: `${env.emulator.url}/api/events`,
      },
    );
    const orders = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      type: SEED_TYPES.containerApp,
      name: 'ca-orders',
      tags: { dapr: 'system' },
    });
    const topicBefore = env.emulator.topic.received.length;
    const d = await deliver(app, resourceWriteEvent({ resourceId: orders }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome?.errors));

    const sweepLines: string[] = [];
    const reports = new InMemoryReportStore();
    const report = await runSweep(
      { rules: app.rules, ports: app.ports, sweep: { graph: app.sweep.graph, reports } },
      { reportOnly: true, log: createLogger((_level, line) => sweepLines.push(line)) },
    );
    assert.ok(report.secretless, 'the sweep has the secretless section');
    assert.equal(report.secretless.totals.onKeys, 2);
    const stored = reports.reports.at(-1)!;
    assert.match(stored.markdown, /## Secretless/);
    assert.match(stored.html, /id="secretless-targets"/);

    const ledgerRows = await app.ledger.byResourceId(orders, 50);
    assert.ok(ledgerRows.length > 0, 'the remediation was recorded');
    const events = env.emulator.topic.received.slice(topicBefore);
    assert.ok(events.length > 0, 'the outcome was published');
    const outputs: Record<string, string> = {
      'trigger logs': JSON.stringify(d.logs),
      'ledger rows': JSON.stringify(ledgerRows),
      'outcome events': JSON.stringify(events),
      'sweep logs': sweepLines.join('\n'),
      'report JSON': stored.json,
      'report Markdown': stored.markdown,
      'report HTML': stored.html,
      'report object': JSON.stringify(report),
    };
    for (const [what, text] of Object.entries(outputs)) assert.ok(!text.includes(PLANTED), `${what} hold the planted value`);
    // The check is real: the value is in the emulator's store, and a plain key field comes back from a GET.
    assert.ok(JSON.stringify([...env.emulator.state.resources.values()].map((r) => r.body)).includes(PLANTED));
  });
});
