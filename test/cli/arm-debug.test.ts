import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { armDebugPolicy } from '../../src/azure/debug-policy';
import { SANDBOX_SUBSCRIPTION } from '../../src/sandbox/estate';
import { cli } from './bin';

const WEB = `/subscriptions/${SANDBOX_SUBSCRIPTION}/resourceGroups/rg-web/providers/Microsoft.Web/sites/app-storefront`;

/** `DEBUG: ARM <method> <url> -> <status> in <n> ms (x-ms-correlation-request-id: <id>)` */
const ARM_LINE =
  /^DEBUG: ARM (GET|PUT|PATCH|POST|DELETE) (https:\/\/\S+) -> (\d{3}) in \d+ ms \(x-ms-correlation-request-id: ([0-9a-f-]{36})\)$/gm;

describe('--debug shows every ARM call, as az does (issue 24 D18)', () => {
  it('plan and apply: method, URL, status, duration and correlation id per call on stderr; never a token', () => {
    for (const mode of ['plan', 'apply']) {
      const r = cli([mode, WEB, '--sandbox', '--debug', '-o', 'json', '--yes'].filter((a) => mode === 'apply' || a !== '--yes'));
      assert.equal(r.code, 0, r.err);
      const calls = [...r.err.matchAll(ARM_LINE)].map((m) => ({ method: m[1], url: m[2]!, status: m[3] }));
      assert.ok(
        calls.some(
          (c) => c.method === 'GET' && c.url.includes('/providers/Microsoft.Web/sites/app-storefront?api-version=') && c.status === '200',
        ),
        r.err,
      );
      if (mode === 'apply')
        assert.ok(
          calls.some((c) => c.method !== 'GET' && c.url.includes('app-storefront')),
          'the writes are shown',
        );
      else
        assert.ok(
          calls.every((c) => c.method === 'GET' || c.method === 'POST'),
          'plan only reads (Resource Graph queries are POSTs)',
        );
      assert.doesNotMatch(r.err, /authorization['"]?:|bearer |eyJ[A-Za-z0-9_-]{10,}/i, 'no header and no token');
      assert.equal(JSON.parse(r.out).mode, mode, 'stdout stays the result');
    }
  });

  it('without --debug, no ARM line', () => {
    const r = cli(['plan', WEB, '--sandbox', '--verbose', '-o', 'none']);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.err, /ARM GET/);
  });
});

describe('the --debug line of one call', () => {
  it("hides query values that are not ARM's own parameters (an operation monitor's signature) and every header", async () => {
    const lines: string[] = [];
    const request = createPipelineRequest({
      url: 'https://management.azure.com/subscriptions/s/providers/Microsoft.Web/locations/x/operationResults/1?api-version=2024-04-01&t=638&c=MIIH&s=SIGNATURE&h=HASH',
      method: 'GET',
      headers: createHttpHeaders({ authorization: 'Bearer SECRET-TOKEN' }),
    });
    await armDebugPolicy((l) => lines.push(l)).sendRequest(request, async (req) => ({
      request: req,
      status: 202,
      headers: createHttpHeaders({ 'x-ms-correlation-request-id': '5f4f3a2e-0000-4000-8000-000000000001', 'set-cookie': 'x=SECRET' }),
    }));
    assert.deepEqual(lines.length, 1);
    assert.match(
      lines[0]!,
      /^ARM GET https:\/\/management\.azure\.com\/\S+\?api-version=2024-04-01&t=REDACTED&c=REDACTED&s=REDACTED&h=REDACTED -> 202 in \d+ ms \(x-ms-correlation-request-id: 5f4f3a2e-0000-4000-8000-000000000001\)$/,
    );
    assert.doesNotMatch(lines[0]!, /SECRET|SIGNATURE|HASH/);
  });
});
