import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { InvocationContext } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import type { Autopilot } from '../../src/app/composition';
import { triggerNamed } from '../../src/functions/triggers';
import { MemoryLedger } from '../../src/ledger/memory-ledger';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { TRIGGER_RULES } from '../functions/rules.fixture';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const env = useEmulator({ subscriptions: [SUB_A] });
const storage = useAzurite();

/** Tag text an attacker controls: ANSI (clear screen, retitle the window), a forged table row, a link, HTML. */
const HOSTILE_TAG =
  'x\u001b[2J\u001b]0;pwned\u0007\u009b31m|[click](https://evil.example)<img src=x onerror=alert(1)>`code`\n| forged | row |\u202egnp.exe';

/** The binary, asynchronously: the emulator answering it runs in this process. */
function run(bin: string, args: string[], childEnv: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('records cannot be confused or abused', () => {
  let app: Autopilot;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(
      env,
      rulesFor(TRIGGER_RULES),
      {},
      {
        AUTOPILOT_LEDGER_CONNECTION_STRING: storage.azurite.connectionString,
        AUTOPILOT_LEDGER_TABLE: 'recordstest',
        AzureWebJobsStorage: storage.azurite.connectionString,
      },
    );
  });

  it('event ids that shared a row key under the old scheme (character filter, 512-character cut) stay distinct', async () => {
    const pairs: Array<[string, string]> = [
      ['evt/collide?1', 'evt_collide_1'],
      [`${'e'.repeat(512)}-first`, `${'e'.repeat(512)}-second`],
    ];
    for (const [i, [first, second]] of pairs.entries()) {
      const ids = [first, second].map((eventId, k) => {
        const id = seedResource(env.emulator.state, {
          subscriptionId: SUB_A,
          resourceGroup: 'rg-records',
          type: SEED_TYPES.virtualMachine,
          name: `vm-${i}-${k}`,
        });
        const event = resourceWriteEvent({ resourceId: id });
        event.id = eventId;
        return { id, event };
      });
      for (const { id, event } of ids) {
        const delivery = await deliver(app, event);
        assert.equal(
          delivery.outcome?.status,
          'remediated',
          `${event.id.slice(0, 20)}: ${JSON.stringify(delivery.logs.map((l) => l.record))}`,
        );
        assert.equal((await app.ledger.byResourceId(id))[0]?.eventId, event.id);
      }
      // A true redelivery is still recognised.
      const again = await deliver(app, ids[1]!.event);
      assert.equal(again.logs.find((l) => l.record.event === 'event.ignored')?.record.reason, 'duplicate-delivery');
    }
  });

  it('the in-memory ledger keeps the same ids apart and finds entries by request id without regard to case', async () => {
    const ledger = new MemoryLedger();
    await ledger.markEventHandled('evt/collide?1', 'r1');
    assert.equal(await ledger.hasHandledEvent('evt_collide_1'), false);
    assert.equal(await ledger.hasHandledEvent('evt/collide?1'), true);
    const entry = {
      requestId: '0b8c5a3e-1d2f-4a5b-8c6d-7e8f9a0b1c2d',
      resourceId: `/subscriptions/${SUB_A}/resourceGroups/rg/providers/Microsoft.Web/sites/a`,
      trigger: 'http',
      status: 'remediated',
      correlationId: 'c',
      actions: [],
      skipped: [],
      errors: [],
      durationMs: 1,
      startedAt: '2026-01-01T00:00:00Z',
      finishedAt: '2026-01-01T00:00:01Z',
    } as const;
    await ledger.append({ ...entry, actions: [], skipped: [], errors: [] });
    assert.equal((await ledger.byRequestId(entry.requestId.toUpperCase()))?.resourceId, entry.resourceId);
    assert.equal((await ledger.byResourceId(entry.resourceId.toUpperCase())).length, 1);
  });

  it('tag text is escaped in the stored Markdown report: no escape sequences, no forged rows, links or HTML', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-records',
      type: SEED_TYPES.webApp,
      name: 'web-hostile-tag',
      tags: { 'autopilot-profiles': HOSTILE_TAG },
    });
    const sweep = triggerNamed('timer', 'complianceSweep', () => app);
    await sweep.handler(
      { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } },
      new InvocationContext({ invocationId: 'sweep', functionName: 'complianceSweep', logHandler: () => undefined }),
    );
    const container = BlobServiceClient.fromConnectionString(storage.azurite.connectionString).getContainerClient(
      app.settings.sweep.reportContainer,
    );
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat()) if (blob.name.endsWith('.md')) names.push(blob.name);
    const markdown = (await container.getBlockBlobClient(names.sort().at(-1)!).downloadToBuffer()).toString('utf8');
    const failure = markdown.split('\n').find((l) => l.includes('web-hostile-tag'));
    assert.ok(failure, markdown);
    assert.match(failure, /UnknownProfile/);
    assert.doesNotMatch(markdown, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/, 'no control or bidi characters');
    assert.doesNotMatch(markdown, /^\| forged/m, 'the newline did not start a new table row');
    assert.doesNotMatch(markdown, /<img/, 'no HTML');
    assert.doesNotMatch(markdown, /(^|[^\\])\[click\]\(/, 'no live link');
    // The cell still has exactly the table's three columns: every '|' from the tag is escaped.
    assert.equal(failure.replace(/\\\|/g, '').split('|').length - 2, 3, failure);
    void id;
  });

  it('the CLI (real binary) shows the same tag text on a terminal without escape sequences or forged lines', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-records',
      type: SEED_TYPES.webApp,
      name: 'web-hostile-cli',
      tags: { 'autopilot-profiles': HOSTILE_TAG },
    });
    const dir = mkdtempSync(join(tmpdir(), 'records-'));
    writeFileSync(join(dir, 'rules.yaml'), TRIGGER_RULES);
    writeFileSync(join(dir, 'ca.pem'), env.emulator.ca);
    const cliEnv = {
      PATH: process.env.PATH,
      ...env.emulator.managedIdentityEnvironment,
      AUTOPILOT_ARM_ENDPOINT: env.emulator.url,
      AUTOPILOT_ARM_CA_PATH: join(dir, 'ca.pem'),
      AUTOPILOT_RULES_PATH: join(dir, 'rules.yaml'),
    };
    const bin = join(__dirname, '..', '..', 'src', 'cli', 'bin.cjs');
    const plan = await run(bin, ['plan', id], cliEnv);
    assert.equal(plan.status, 1, `a profile the resource's tag names is not the caller's usage error: ${plan.stderr}`);
    assert.match(plan.stderr, /UnknownProfile/);
    const sweep = await run(bin, ['sweep', '--report-only'], cliEnv);
    assert.match(sweep.stdout, /web-hostile-cli: UnknownProfile/, sweep.stderr);
    for (const output of [plan.stderr, plan.stdout, sweep.stdout, sweep.stderr]) {
      assert.doesNotMatch(output, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/, JSON.stringify(output));
      assert.doesNotMatch(output, /^\| forged/m);
    }
  });
});
