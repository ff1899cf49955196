import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AzureNamedKeyCredential, odata, TableClient } from '@azure/data-tables';
import { useAzurite } from './azurite';

const env = useAzurite();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(25);
  }
  return !isAlive(pid);
}

interface Row {
  partitionKey: string;
  rowKey: string;
  resourceId: string;
  attempts: number;
  done: boolean;
}

describe('Azurite (tables)', () => {
  it('round-trips a table entity with TableClient and a named-key credential', async () => {
    const { azurite } = env;
    const credential = new AzureNamedKeyCredential(azurite.accountName, azurite.accountKey);
    const table = new TableClient(azurite.tableUrl, 'identityRuns', credential, { allowInsecureConnection: true });
    await table.createTable();

    const row: Row = {
      partitionKey: 'sub-11111111',
      rowKey: 'op-1',
      resourceId: '/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.Web/sites/web-1',
      attempts: 2,
      done: false,
    };
    await table.createEntity(row);
    const got = await table.getEntity<Row>(row.partitionKey, row.rowKey);
    assert.equal(got.resourceId, row.resourceId);
    assert.equal(got.attempts, 2);
    assert.equal(got.done, false);
    assert.ok(got.etag, 'Azurite returns an ETag');

    await table.updateEntity({ partitionKey: row.partitionKey, rowKey: row.rowKey, done: true }, 'Merge', { etag: got.etag });
    const listed = [];
    for await (const e of table.listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${row.partitionKey}` } })) listed.push(e);
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.done, true);
    assert.equal(listed[0]!.attempts, 2, 'a Merge update keeps the other properties');

    // The same data through the connection string (http needs allowInsecureConnection).
    const viaConnectionString = TableClient.fromConnectionString(azurite.connectionString, 'identityRuns', {
      allowInsecureConnection: true,
    });
    assert.equal((await viaConnectionString.getEntity<Row>(row.partitionKey, row.rowKey)).done, true);

    await table.deleteEntity(row.partitionKey, row.rowKey);
    await assert.rejects(table.getEntity(row.partitionKey, row.rowKey), (e: unknown) => (e as { statusCode?: number }).statusCode === 404);
  });

  it('Azurite dies with its parent even when the parent is SIGKILLed', async () => {
    // A separate node process starts Azurite, reports its pid, and is then killed without any chance to clean up.
    const script = `require(${JSON.stringify(join(__dirname, 'azurite.ts'))}).startAzurite().then((a) => { process.stdout.write('pid=' + a.pid + '\\n'); setInterval(() => {}, 1000); });`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        let out = '';
        parent.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /pid=(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        parent.once('exit', (code) => reject(new Error(`helper exited early (${code}): ${out}`)));
      });
      assert.ok(isAlive(pid), 'Azurite runs while its parent lives');
      parent.kill('SIGKILL');
      assert.ok(await waitUntilGone(pid, 10_000), `Azurite (pid ${pid}) outlived its killed parent`);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    }
  });
});
