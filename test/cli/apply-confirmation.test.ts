import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SANDBOX_SUBSCRIPTION } from '../../src/sandbox/estate';
import { BIN, cli, cleanEnv as env } from './bin';
import { onTerminal, python3Available } from './terminal';

// Under the sandbox rule with `workload.allowRestart`: writing its identity restarts its containers.
const CONTAINER_GROUP = `/subscriptions/${SANDBOX_SUBSCRIPTION}/resourceGroups/rg-jobs/providers/Microsoft.ContainerInstance/containerGroups/aci-nightly-report`;
const WEB = `/subscriptions/${SANDBOX_SUBSCRIPTION}/resourceGroups/rg-web/providers/Microsoft.Web/sites/app-storefront`;

describe('apply asks before a fix that disturbs the workload, as sweep does (issue 24 D15)', () => {
  it('without a terminal and without --yes: nothing written, the restart named, exit 1', () => {
    const r = cli(['apply', CONTAINER_GROUP, '--sandbox', '-o', 'json']);
    assert.equal(r.code, 1, r.err);
    assert.equal(r.out, '');
    assert.match(r.err, /aci-nightly-report: writing the identity is a PUT of the whole container group, which restarts every container/);
    assert.match(r.err, /^ERROR: Unable to prompt for confirmation as no tty available\. Use --yes\. Nothing was changed/m);
  });

  it('--yes applies it; a fix that disturbs nothing is applied without a question', () => {
    const yes = cli(['apply', CONTAINER_GROUP, '--sandbox', '-o', 'json', '--yes']);
    assert.equal(yes.code, 0, yes.err);
    assert.equal(JSON.parse(yes.out).outcome.status, 'remediated');
    const harmless = cli(['apply', WEB, '--sandbox', '-o', 'json', '--only-show-errors']);
    assert.equal(harmless.code, 0, harmless.err);
    assert.equal(JSON.parse(harmless.out).outcome.status, 'remediated');
  });

  it('on a terminal: the question, and "n" changes nothing', { skip: !python3Available() && 'python3 is not installed' }, () => {
    const no = onTerminal([process.execPath, BIN, 'apply', CONTAINER_GROUP, '--sandbox'], { answer: 'n', env: env() });
    assert.equal(no.code, 1, no.text);
    assert.match(no.text, /Apply this fix\? \(y\/n\): /);
    assert.match(no.text, /ERROR: Operation cancelled\. Nothing was changed/);
    const yes = onTerminal([process.execPath, BIN, 'apply', CONTAINER_GROUP, '--sandbox'], { answer: 'y', env: env() });
    assert.equal(yes.code, 0, yes.text);
    assert.match(yes.text, /status: remediated/);
  });
});
