import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { assertRejected, baseRules, load } from '../config/helpers';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { EASY_AUTH_ON } from '../support/easy-auth';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { GOOD_WEB, HOSTILE_IDS } from '../support/hostile-ids';
import { call } from '../support/http-api';
import { hostJsonQueueSettings } from '../support/queue-host';
import { drainRemediationQueue, queuesOf } from '../sweep/fixture';
import { TRIGGER_RULES } from './rules.fixture';

const env = useEmulator({ subscriptions: [SUB_A] });
const storage = useAzurite();
const CLEAN = /TypeError|Cannot read prop|is not a function|\bundefined\b/;

const http = call;

describe('non-canonical resource ids are refused with InvalidResourceId on every path', () => {
  let app: Autopilot;
  before(() => {
    grantAppOwner(env.emulator);
    seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-ids', type: SEED_TYPES.webApp, name: 'web-ids' });
    seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-victim', type: SEED_TYPES.webApp, name: 'victim' });
    app = buildApp(
      env,
      rulesFor(TRIGGER_RULES),
      {},
      {
        ...EASY_AUTH_ON,
        AzureWebJobsStorage: storage.azurite.connectionString,
        AUTOPILOT_REMEDIATION_QUEUE: 'ids-test',
        AUTOPILOT_LEDGER_TABLE: 'idstest',
      },
    );
  });

  it('Event Grid trigger: rejected before any ARM call, logged with the code, acknowledged', async () => {
    for (const { label, id } of HOSTILE_IDS) {
      const event = resourceWriteEvent({ resourceId: GOOD_WEB });
      event.subject = id;
      event.data.resourceUri = id;
      const before = env.emulator.lastSeq;
      const delivery = await deliver(app, event);
      assert.equal(delivery.error, undefined, label);
      const rejected = delivery.logs.find((l) => l.record.event === 'event.rejected');
      assert.equal(rejected?.record.code, 'InvalidResourceId', `${label}: ${JSON.stringify(delivery.logs)}`);
      assert.doesNotMatch(JSON.stringify(delivery.logs), CLEAN, label);
      assert.deepEqual(env.emulator.requestsSince(before), [], `${label}: no ARM call`);
    }
  });

  it('HTTP body and route parameter: 400 problem InvalidResourceId, no ARM call', async () => {
    for (const { label, id } of HOSTILE_IDS) {
      const before = env.emulator.lastSeq;
      const posted = await http(app, 'remediationsPost', {
        method: 'POST',
        url: 'http://localhost/api/remediations',
        headers: { 'content-type': 'application/json' },
        body: { string: JSON.stringify({ resourceId: id, mode: 'apply' }) },
      });
      assert.equal(posted.status, 400, `${label}: ${JSON.stringify(posted.body)}`);
      assert.equal(posted.body.code, 'InvalidResourceId', label);
      assert.doesNotMatch(posted.body.detail, CLEAN, label);
      const encoded = encodeURIComponent(id);
      const listed = await http(app, 'resourceRemediations', {
        method: 'GET',
        url: `http://localhost/api/resources/${encoded}/remediations`,
        params: { resourceId: encoded },
      });
      assert.equal(listed.status, 400, `${label}: ${JSON.stringify(listed.body)}`);
      assert.equal(listed.body.code, 'InvalidResourceId', label);
      assert.doesNotMatch(listed.body.detail, CLEAN, label);
      assert.deepEqual(env.emulator.requestsSince(before), [], `${label}: no ARM call`);
    }
    // Double encoding does not smuggle a '..' past the check.
    const twice = encodeURIComponent(encodeURIComponent(`${GOOD_WEB}/..`).replace(/\./g, '%2e'));
    const listed = await http(app, 'resourceRemediations', {
      method: 'GET',
      url: `http://localhost/api/resources/${twice}/remediations`,
      params: { resourceId: twice },
    });
    assert.equal(listed.body.code, 'InvalidResourceId');
  });

  it('queue trigger: logged with the code and dropped (not retried, not parked), no ARM call', async () => {
    const { queue } = queuesOf(app, storage.azurite);
    await queue.createIfNotExists();
    for (const { id } of HOSTILE_IDS) {
      await queue.sendMessage(
        JSON.stringify({ version: 1, resourceId: id, correlationId: 'c', sweepId: 's', rule: 'workloads', problems: ['identity-missing'] }),
      );
    }
    const before = env.emulator.lastSeq;
    const run = await drainRemediationQueue(app, storage.azurite, {
      ...hostJsonQueueSettings(),
      maxDequeueCount: 1,
      visibilityTimeoutSeconds: 0,
    });
    assert.equal(run.poisoned.length, 0);
    assert.equal(run.failedAttempts, 0, 'every retry would fail the same way: none');
    const rejected = run.logs.filter((l) => l.record.event === 'queue.message.rejected');
    assert.equal(rejected.length, HOSTILE_IDS.length);
    for (const r of rejected) {
      assert.ok(['InvalidResourceId', 'MalformedRemediationMessage'].includes(r.record.code), JSON.stringify(r.record));
      assert.equal(r.level, 'error');
      assert.doesNotMatch(r.record.detail, CLEAN);
    }
    assert.deepEqual(env.emulator.requestsSince(before), []);
  });

  it('CLI (real binary): exit 2 (usage error) with InvalidResourceId before any session opens', () => {
    const bin = join(__dirname, '..', '..', 'src', 'cli', 'bin.cjs');
    // A sample of the list (each start of the binary takes seconds); the parser test covers every id.
    const sample = HOSTILE_IDS.filter((h) =>
      ['empty', "'/'", "'..' traversal to another team's app", "an encoded '/' (%2F)", 'an ANSI escape'].includes(h.label),
    );
    assert.equal(sample.length, 5);
    for (const [i, { label, id }] of sample.entries()) {
      for (const command of i < 2 ? ['plan', 'ledger'] : ['apply']) {
        // No --sandbox and no Azure login: a bad id must be refused before any of that is needed.
        const r = spawnSync(process.execPath, [bin, command, id], {
          encoding: 'utf8',
          timeout: 30_000,
          env: { ...process.env, AUTOPILOT_RULES_PATH: 'does-not-exist.yaml' },
        });
        assert.equal(r.status, 2, `${command} ${label}: ${r.stderr}`);
        assert.match(r.stderr, /InvalidResourceId/, `${command} ${label}`);
        assert.doesNotMatch(r.stderr, CLEAN, `${command} ${label}`);
        assert.doesNotMatch(r.stderr, /\u001b/, `${command} ${label}: no raw escape on the terminal`);
      }
    }
  });

  it('rules file: a role scope that is not canonical stops loading with the key path', () => {
    for (const scope of [
      '/',
      '//',
      `${GOOD_WEB}/.`,
      `${GOOD_WEB}/%2e%2e`,
      `/subscriptions/{subscriptionId}//resourceGroups/{resourceGroup}`,
      `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.KeyVault/vaults/kv\\..`,
    ]) {
      const rules = baseRules();
      rules.scope.subscriptions = [SUB_A];
      rules.profiles['rg-blob-reader'].roles[0].scope = scope;
      const e = assertRejected(() => load(rules), 'profiles.rg-blob-reader.roles[0].scope', /not a valid ARM resource id|contains '\.\.'/);
      assert.doesNotMatch(e.message, CLEAN);
    }
  });
});
