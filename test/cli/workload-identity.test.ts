import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SANDBOX_SUBSCRIPTION } from '../../src/sandbox/estate';

const BIN = join(__dirname, '..', '..', 'src', 'cli', 'bin.cjs');
const CLUSTER = `/subscriptions/${SANDBOX_SUBSCRIPTION}/resourceGroups/rg-aks-wi/providers/Microsoft.ContainerService/managedClusters/aks-payments`;
const GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('CLI: AKS workload identity (real binary, --sandbox)', () => {
  it('plan names the identity to create, with no clientId yet; apply prints the annotation to set on the service account', () => {
    const plan = cli('plan', CLUSTER, '--sandbox', '--detailed-exitcode');
    assert.equal(plan.code, 2, plan.err); // changes planned, reported only behind --detailed-exitcode
    assert.match(
      plan.out,
      /service account payments\/payments-api: identity \/subscriptions\/.*\/userAssignedIdentities\/wi-aks-payments-payments-payments-api-[0-9a-f]{12}/,
    );
    assert.match(plan.out, /annotation: clientId not known yet/);
    const apply = cli('apply', CLUSTER, '--sandbox');
    assert.equal(apply.code, 0, apply.err);
    assert.match(apply.out, new RegExp(`annotation: azure\\.workload\\.identity/client-id: ${GUID}`));
    assert.match(
      apply.out,
      /federated credential aks-aks-payments-[0-9a-f]{16}: created \(issuer https:\/\/westeurope\.oic\.prod-aks\.azure\.com\/.*, subject system:serviceaccount:payments:payments-api\)/,
    );
    const json = JSON.parse(cli('apply', CLUSTER, '--sandbox', '-o', 'json').out);
    assert.equal(json.outcome.status, 'remediated');
    assert.match(json.outcome.workloadIdentities[0].clientId, new RegExp(`^${GUID}$`));
  });
});
