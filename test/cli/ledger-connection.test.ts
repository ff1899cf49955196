import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SANDBOX_SUBSCRIPTION } from '../../src/sandbox/estate';
import { useAzurite } from '../support/azurite';
import { cleanEnv, cli } from './bin';

const WEB = `/subscriptions/${SANDBOX_SUBSCRIPTION}/resourceGroups/rg-web/providers/Microsoft.Web/sites/app-storefront`;

/** A folder like the app's root after `cp local.settings.sample.json local.settings.json`, with these values. */
function appFolder(values: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'app-'));
  writeFileSync(
    join(dir, 'local.settings.json'),
    JSON.stringify({ IsEncrypted: false, Values: { FUNCTIONS_WORKER_RUNTIME: 'node', ...values } }),
  );
  return dir;
}

describe('ledger: reaching the local (Azurite) ledger without an undocumented setting (D3)', () => {
  const storage = useAzurite();
  const table = `cliledger${Date.now()}`;
  let requestId = '';

  it('an outcome recorded in Azurite (apply --sandbox with AUTOPILOT_LEDGER_CONNECTION_STRING)', () => {
    const env = cleanEnv({ AUTOPILOT_LEDGER_CONNECTION_STRING: storage.azurite.connectionString, AUTOPILOT_LEDGER_TABLE: table });
    const applied = cli(['apply', WEB, '--sandbox', '-o', 'json'], env);
    assert.equal(applied.code, 0, applied.err);
    requestId = JSON.parse(applied.out).requestId;
  });

  it('is read with the settings `func start` uses: AzureWebJobsStorage in ./local.settings.json, no other setting', () => {
    const cwd = appFolder({
      AzureWebJobsStorage: storage.azurite.connectionString,
      AUTOPILOT_LEDGER_TABLE: table,
      AUTOPILOT_LEDGER_TABLE_URL: '',
    });
    const r = cli(['ledger', WEB, '-o', 'json', '--query', 'value[].requestId', '--verbose'], cleanEnv(), { cwd });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), [requestId]);
    assert.match(r.err, /^INFO: ledger: table 'cliledger\d+' through a storage connection string \(from .*local\.settings\.json\)$/m);
  });

  it('is read with --ledger-connection-string (the flag az storage users expect), without rules file or Azure sign-in', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'empty-'));
    const r = cli(
      [
        'ledger',
        WEB,
        '--ledger-connection-string',
        storage.azurite.connectionString,
        '-o',
        'json',
        '--query',
        'value[].[requestId, status]',
      ],
      cleanEnv({ AUTOPILOT_LEDGER_TABLE: table }),
      { cwd },
    );
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), [[requestId, 'remediated']]);
  });

  it('nothing configured: exit 1 and the error names every setting that would configure it', () => {
    const r = cli(['ledger', WEB], cleanEnv(), { cwd: mkdtempSync(join(tmpdir(), 'empty-')) });
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    for (const setting of [
      '--ledger <table url>',
      '--ledger-connection-string',
      'AUTOPILOT_LEDGER_CONNECTION_STRING',
      'AzureWebJobsStorage',
      'local.settings.json',
    ])
      assert.ok(r.err.includes(setting), `${setting} in ${r.err}`);
    // An http:// table URL (Azurite's) points at the flag that works.
    const http = cli(['ledger', WEB, '--ledger', 'http://127.0.0.1:10002/devstoreaccount1']);
    assert.equal(http.code, 2);
    assert.match(http.err, /for Azurite use --ledger-connection-string UseDevelopmentStorage=true/);
  });
});
