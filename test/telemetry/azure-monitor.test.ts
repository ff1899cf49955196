import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ManagedIdentityCredential } from '@azure/identity';
import { readSettings } from '../../src/settings/settings';
import { METRIC } from '../../src/telemetry';
import { azureMonitorTelemetry, credentialForAuthenticationString, reportOnce } from '../../src/telemetry/azure-monitor';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { createSelfSignedCertificate, type TlsMaterial } from '../../tools/arm-emulator/tls';
import { TRIGGER_RULES } from '../functions/rules.fixture';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

/**
 * The Azure Monitor exporter as the app configures it, against a local stand-in for the component's
 * ingestion endpoint (the `IngestionEndpoint` of the connection string; the exporter posts envelopes
 * to `/v2.1/track`), with Entra tokens from the emulator's managed-identity endpoint.
 */
const env = useEmulator();
// The exporter's own usage reports (statsbeat) go to a Microsoft endpoint: not from a test.
process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED = 'true';
process.env.APPLICATIONINSIGHTS_SDKSTATS_DISABLED = 'true';
process.env.APPLICATION_INSIGHTS_NO_STATSBEAT = 'true';

interface Received {
  path: string;
  authorization?: string;
  envelopes: Array<{
    name: string;
    data?: { baseType?: string; baseData?: { metrics?: Array<{ name: string }>; name?: string; properties?: Record<string, string> } };
  }>;
}

let tls: TlsMaterial;
// What the exporter could not send and keeps for a retry: a folder of this test's own.
const storageDirectory = mkdtempSync(join(tmpdir(), 'otel-offline-'));
let server: Server;
let status = 200;
const received: Received[] = [];

before(async () => {
  tls = await createSelfSignedCertificate();
  server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      received.push({ path: req.url ?? '', authorization: req.headers.authorization, envelopes: JSON.parse(body.toString('utf8')) });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ itemsReceived: 1, itemsAccepted: status === 200 ? 1 : 0, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

after(() => {
  server.closeAllConnections();
  server.close();
  rmSync(storageDirectory, { recursive: true, force: true });
});

const connectionString = () =>
  `InstrumentationKey=00000000-0000-4000-8000-000000000001;IngestionEndpoint=https://127.0.0.1:${(server.address() as AddressInfo).port}/`;

function claims(authorization: string | undefined): Record<string, unknown> {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '';
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

describe('export to Application Insights (Azure Monitor exporter)', () => {
  it("sends the metrics and the remediation span to the component's ingestion endpoint with an Entra token of the identity APPLICATIONINSIGHTS_AUTHENTICATION_STRING names", async () => {
    Object.assign(process.env, env.emulator.managedIdentityEnvironment);
    const clientId = env.emulator.appPrincipal.clientId!;
    const settings = readSettings({
      APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString(),
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `Authorization=AAD;ClientId=${clientId}`,
    });
    const failures: unknown[] = [];
    const telemetry = azureMonitorTelemetry(settings.telemetry, (_s, e) => failures.push(e), { ca: tls.cert, storageDirectory });
    assert.equal(telemetry.enabled, true);
    received.length = 0;
    telemetry.remediationOutcome({ status: 'remediated', resourceType: 'Microsoft.Web/sites' }, 'eventGrid', Date.now() - 1500);
    telemetry.armCall('GET', 200);
    await telemetry.inSpan(
      'remediation',
      { 'azure.resource_id': '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/w', 'correlation.id': 'c-1' },
      async () => undefined,
    );
    await telemetry.flush();
    assert.deepEqual(failures, []);
    assert.ok(received.length >= 2, 'metrics and traces posted');
    for (const r of received) {
      assert.equal(r.path, '/v2.1/track');
      // Keyless: local authentication is off on the component, so every post carries the identity's token.
      const c = claims(r.authorization);
      assert.equal(c.appid, clientId, 'a token of the user-assigned identity');
      assert.match(String(c.aud), /^https:\/\/monitor\.azure\.com\/?$/, 'for Azure Monitor ingestion');
    }
    const metricNames = received.flatMap((r) => r.envelopes.flatMap((e) => e.data?.baseData?.metrics?.map((m) => m.name) ?? []));
    for (const name of [METRIC.remediations, METRIC.eventToDone, METRIC.armCalls])
      assert.ok(metricNames.includes(name), `${name} in customMetrics`);
    const span = received.flatMap((r) => r.envelopes).find((e) => e.data?.baseData?.name === 'remediation');
    assert.equal(
      span?.data?.baseData?.properties?.['azure.resource_id'],
      '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/w',
    );
    assert.equal(span?.data?.baseData?.properties?.['correlation.id'], 'c-1');
    await telemetry.shutdown();
  });

  for (const refusal of [403, 400]) {
    it(`an ingestion endpoint that answers ${refusal}: reported once, never thrown, recording carries on`, async () => {
      const reports: string[] = [];
      const telemetry = azureMonitorTelemetry(
        { connectionString: connectionString() },
        reportOnce((signal, e) => reports.push(`${signal}: ${e instanceof Error ? e.message : String(e)}`)),
        { ca: tls.cert, storageDirectory },
      );
      status = refusal;
      try {
        for (let i = 0; i < 3; i++) {
          telemetry.sweepCompleted();
          await telemetry.inSpan('remediation', {}, async () => undefined);
          await telemetry.flush();
        }
      } finally {
        status = 200;
        await telemetry.shutdown();
      }
      assert.equal(reports.length, 1, reports.join('\n'));
      assert.match(reports[0]!, new RegExp(String(refusal)));
    });
  }

  it('a remediation through the Event Grid trigger is not held up by an ingestion endpoint that refuses everything', async () => {
    grantAppOwner(env.emulator);
    const reports: string[] = [];
    const telemetry = azureMonitorTelemetry(
      { connectionString: connectionString() },
      reportOnce((signal, e) => reports.push(`${signal}: ${String(e)}`)),
      { ca: tls.cert, storageDirectory },
    );
    const app = buildApp(env, rulesFor(TRIGGER_RULES), {}, {}, { telemetry });
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-otel-refused',
      type: SEED_TYPES.webApp,
      name: 'web-otel-refused',
    });
    status = 503;
    try {
      const first = await deliver(app, resourceWriteEvent({ resourceId: id }));
      // An export attempt (in Azure: the 60 s timer) while the next event is handled.
      const exporting = telemetry.flush();
      const again = await deliver(app, resourceWriteEvent({ resourceId: id }));
      await exporting;
      assert.equal(first.error, undefined);
      assert.equal(first.outcome?.status, 'remediated', JSON.stringify(first.outcome));
      assert.equal(again.error, undefined);
      assert.equal(again.outcome?.status, 'compliant', JSON.stringify(again.outcome));
    } finally {
      status = 200;
      await telemetry.shutdown();
    }
    assert.equal(reports.length, 1, 'one log line for the failing component');
    assert.match(reports[0]!, /503/);
  });

  it('without a connection string: off, nothing exported', async () => {
    received.length = 0;
    const telemetry = azureMonitorTelemetry(readSettings({}).telemetry, () => assert.fail('no export'));
    assert.equal(telemetry.enabled, false);
    telemetry.remediationOutcome({ status: 'failed' }, 'queue', Date.now());
    await telemetry.flush();
    assert.equal(received.length, 0);
  });

  it('the authentication string: AAD with a client id is that user-assigned identity, AAD alone the system-assigned one, anything else no credential', () => {
    assert.ok(
      credentialForAuthenticationString('Authorization=AAD;ClientId=00000000-0000-4000-8000-000000000002') instanceof
        ManagedIdentityCredential,
    );
    assert.ok(credentialForAuthenticationString('authorization=aad') instanceof ManagedIdentityCredential);
    assert.equal(credentialForAuthenticationString(undefined), undefined);
    assert.equal(credentialForAuthenticationString(''), undefined);
    assert.equal(credentialForAuthenticationString('Authorization=Key'), undefined);
  });
});
