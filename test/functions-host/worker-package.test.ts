// The deployed package (npm run build:package) inside the real Azure Functions Node.js worker, driven
// over gRPC by test/functions-host/host.ts as the host drives it: registrations as the host sees
// them, and each trigger's input in the shape the host and its extensions deliver it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { QueueClient } from '@azure/storage-queue';
import { triggerSpecs } from '../../src/functions/trigger-specs';
import { sweepSettings } from '../../src/settings/settings';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { grantAppOwner } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { SUB_A, takeSpecViolations, useEmulator } from '../support/emulator-fixture';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { EASY_AUTH_ON, OPERATOR_PRINCIPAL } from '../support/easy-auth';
import { TRIGGER_RULES } from '../functions/rules.fixture';
import { packagedApp } from './app-builds';
import { type FunctionMetadata, FunctionsHost, json, LogCategory, rawBindings, type RpcLog, Status, type TypedData } from './host';
import { emulatorAppSettings, eventGridInput, httpAnswer, httpInput, triggerBindingName } from './support';

const env = useEmulator();
const storage = useAzurite();
const REPO = join(__dirname, '..', '..');
/** The structured records the app logged through `context` (user logs; system logs are the worker's own). */
const userRecords = (logs: RpcLog[]): Record<string, any>[] => logs.filter((l) => l.logCategory === LogCategory.User).map((l) => JSON.parse(l.message) as Record<string, any>);
const sampleSettings = JSON.parse(readFileSync(join(REPO, 'local.settings.sample.json'), 'utf8')).Values as Record<string, string>;

describe('the deployed package inside the Azure Functions Node.js worker', () => {
  let host: FunctionsHost;
  let functions: Map<string, FunctionMetadata>;
  let metadata: FunctionMetadata[];
  let settings: Record<string, string>;
  const fn = (name: string) => {
    const f = functions.get(name);
    assert.ok(f, `the worker reported ${name}`);
    return f;
  };

  before(async () => {
    grantAppOwner(env.emulator);
    settings = emulatorAppSettings(env.emulator, TRIGGER_RULES, {
      // App Service authentication in front: the HTTP calls below come from an Entra caller with both app roles.
      ...EASY_AUTH_ON,
      AzureWebJobsStorage: storage.azurite.connectionString,
      AUTOPILOT_REMEDIATION_BUDGET_SECONDS: '3',
      AUTOPILOT_SWEEP_SCHEDULE: '0 */5 * * * *',
    });
    host = await FunctionsHost.start({ appDir: packagedApp(), env: settings });
    const response = await host.functionsMetadata();
    assert.equal(response.result.status, Status.Success, JSON.stringify(response.result));
    assert.equal(response.useDefaultMetadataIndexing, false, 'worker indexing: the app registered its functions with app.*');
    metadata = response.functionMetadataResults;
    functions = await host.loadFunctions(metadata);
  });
  after(async () => {
    await host?.close();
  });

  describe('function metadata, as the host validates it', () => {
    it('reports exactly the functions of the trigger table, each with the binding type its trigger needs', () => {
      const expected = triggerSpecs(sweepSettings(settings));
      const types = { eventGrid: 'eventGridTrigger', http: 'httpTrigger', timer: 'timerTrigger', storageQueue: 'queueTrigger' } as const;
      assert.deepEqual(metadata.map((f) => f.name).sort(), expected.map((s) => s.name).sort());
      for (const spec of expected) {
        const bindings = rawBindings(fn(spec.name));
        const triggers = bindings.filter((b) => b.direction === 'in');
        assert.equal(triggers.length, 1, `${spec.name}: one input binding, the trigger`);
        assert.equal(triggers[0]!.type, types[spec.kind], spec.name);
        // The host reads function.json-style binding names: letters, digits, `$return` for the return value.
        for (const b of bindings) assert.match(b.name, /^([A-Za-z][A-Za-z0-9]*|\$return)$/, `${spec.name}: binding name ${b.name}`);
        // Worker indexing: the host matches FunctionLoadRequests to these ids.
        assert.ok(fn(spec.name).functionId, `${spec.name} has a function id`);
      }
    });

    it('HTTP functions: an httpTrigger in, the `http` $return out, known methods and auth levels, routes that do not clash', () => {
      const http = metadata.filter((f) => rawBindings(f).some((b) => b.type === 'httpTrigger'));
      assert.ok(http.length >= 4);
      const routes = new Map<string, string>();
      for (const f of http) {
        const [trigger] = rawBindings(f).filter((b) => b.type === 'httpTrigger');
        const out = rawBindings(f).filter((b) => b.direction === 'out');
        assert.deepEqual(out, [{ type: 'http', name: '$return', direction: 'out' }], `${f.name} answers through $return`);
        // authLevel: AuthorizationLevel in Microsoft.Azure.WebJobs.Extensions.Http (anonymous, function, admin).
        assert.ok(['anonymous', 'function', 'admin'].includes(trigger!.authLevel), `${f.name} authLevel ${trigger!.authLevel}`);
        assert.ok(Array.isArray(trigger!.methods) && trigger!.methods.length > 0, `${f.name} lists its methods`);
        for (const m of trigger!.methods) assert.match(m, /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$/, `${f.name} method ${m}`);
        assert.equal(typeof trigger!.route, 'string', `${f.name} has a route`);
        // The host refuses routes under its own prefixes (admin, runtime) and leading slashes are
        // not part of a route template.
        assert.doesNotMatch(trigger!.route, /^\/|^(admin|runtime)(\/|$)/i, `${f.name} route ${trigger!.route}`);
        const template = trigger!.route.toLowerCase().replace(/\{[^}]+\}/g, '{}');
        for (const m of trigger!.methods) {
          const key = `${m} ${template}`;
          assert.equal(routes.get(key), undefined, `${f.name} and ${routes.get(key)} both answer ${key}`);
          routes.set(key, f.name);
        }
      }
    });

    it('timer: a six-field NCRONTAB schedule (seconds first), as set in the app setting', () => {
      const [timer] = metadata.flatMap((f) => rawBindings(f).filter((b) => b.type === 'timerTrigger'));
      assert.ok(timer, 'a timerTrigger is registered');
      const schedule = /^%(.+)%$/.exec(timer.schedule)?.[1] ? settings[/^%(.+)%$/.exec(timer.schedule)![1]!] : timer.schedule;
      assert.equal(schedule, '0 */5 * * * *', 'AUTOPILOT_SWEEP_SCHEDULE reaches the binding');
      assert.equal(String(schedule).split(/\s+/).length, 6);
    });

    it('queue: a queueTrigger on a valid queue name, with a connection local.settings.sample.json defines', () => {
      const [queue] = metadata.flatMap((f) => rawBindings(f).filter((b) => b.type === 'queueTrigger'));
      assert.ok(queue, 'a queueTrigger is registered');
      assert.match(queue.queueName, /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/);
      assert.ok(queue.connection in sampleSettings, `connection ${queue.connection} is an app setting of the sample`);
      assert.equal(queue.queueName, sweepSettings(settings).queueName, 'the queue the sweep fills is the one the trigger reads');
    });

    it('Event Grid: an eventGridTrigger with no connection or options the extension does not know', () => {
      const [grid] = metadata.flatMap((f) => rawBindings(f).filter((b) => b.type === 'eventGridTrigger'));
      assert.ok(grid, 'an eventGridTrigger is registered');
      assert.deepEqual(Object.keys(grid).filter((k) => !['type', 'name', 'direction', 'properties'].includes(k)), []);
    });
  });

  describe('Event Grid trigger', () => {
    for (const schema of ['EventGridSchema', 'CloudEventSchemaV1_0'] as const) {
      it(`a ResourceWriteSuccess event (${schema}) remediates the resource; logs arrive as RpcLog with the invocation id`, async () => {
        const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-apps', type: SEED_TYPES.webApp, name: `web-worker-${schema.length}` });
        const event = resourceWriteEvent({ resourceId: id, schema });
        const { response, logs } = await host.invoke(fn('resourceWriteSuccess'), eventGridInput(fn('resourceWriteSuccess'), event));
        assert.equal(response.result.status, Status.Success, JSON.stringify(response.result));
        const identity = env.emulator.state.resource(id)!.body.identity;
        assert.equal(identity?.type, 'SystemAssigned');
        assert.ok(env.emulator.state.assignmentsFor(identity.principalId).length > 0, 'roles were granted');
        const outcome = userRecords(logs).find((r) => r.event === 'remediation.outcome');
        assert.equal(outcome?.status, 'remediated');
        assert.equal(outcome?.correlationId, event.data.correlationId);
        const userLogs = logs.filter((l) => l.logCategory === LogCategory.User);
        assert.ok(userLogs.length > 0, 'the handler logged through context');
        for (const l of userLogs) {
          assert.equal(l.category, 'resourceWriteSuccess.Invocation'); // @azure/functions' InvocationContext log category
        }
      });
    }

    it('a transient failure is handed to the remediation queue and the invocation succeeds (no Event Grid redelivery), with no secret in it', async () => {
      const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-apps', type: SEED_TYPES.webApp, name: 'web-worker-503' });
      const fault = env.emulator.faults.add({ path: 'web-worker-503', method: 'PATCH', action: { kind: 'error', status: 503, code: 'ServiceUnavailable', retryAfterSeconds: 0 } });
      try {
        const { response, logs } = await host.invoke(fn('resourceWriteSuccess'), eventGridInput(fn('resourceWriteSuccess'), resourceWriteEvent({ resourceId: id })));
        // The host's storage holds the remediation queue: the rest is handed off there, not left to Event Grid.
        assert.equal(response.result.status, Status.Success);
        assert.ok(fault.hits > 0);
        const outcome = userRecords(logs).find((r) => r.event === 'remediation.outcome');
        assert.equal(outcome?.status, 'deferred');
        assert.equal(outcome?.deferral.reason, 'transient');
        assert.match(outcome?.deferral.detail ?? '', /ServiceUnavailable/);
        assert.doesNotMatch(JSON.stringify({ response, logs }), /eyJ[A-Za-z0-9_-]{5,}\.|Bearer /);
        assert.ok(!JSON.stringify({ response, logs }).includes(settings.IDENTITY_HEADER!), 'the identity endpoint secret stays out');
      } finally {
        env.emulator.faults.clear();
        await takeSpecViolations(env.emulator);
      }
    });

    it('an event that is not JSON is rejected with a clear reason, not retried, and writes nothing', async () => {
      const before = env.emulator.lastSeq;
      const { response, logs } = await host.invoke(fn('resourceWriteSuccess'), { inputData: [{ name: triggerBindingName(fn('resourceWriteSuccess')), data: { string: 'not an event' } }] });
      assert.equal(env.emulator.requestsSince(before, { writesOnly: true }).length, 0);
      // Permanent: retrying cannot fix it, so the invocation succeeds (no redelivery storm) and says why.
      assert.equal(response.result.status, Status.Success, JSON.stringify(response.result));
      const rejected = userRecords(logs).find((r) => r.event === 'event.rejected');
      assert.equal(rejected?.reason, 'malformed');
      assert.doesNotMatch(rejected?.detail ?? '', /TypeError|Cannot read prop/);
    });
  });

  describe('HTTP trigger through RpcHttp', () => {
    const post = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      host.invoke(fn('remediationsPost'), httpInput(fn('remediationsPost'), { method: 'POST', path: 'remediations', headers: { 'x-ms-client-principal': OPERATOR_PRINCIPAL, ...headers }, body }));

    it('POST plan, POST apply, then GET the ledger entry by request id', async () => {
      const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-http', type: SEED_TYPES.webApp, name: 'web-worker-http' });
      const before = env.emulator.lastSeq;
      const plan = httpAnswer((await post(JSON.stringify({ resourceId: id, mode: 'plan' }))).response.returnValue);
      assert.equal(plan.status, 200, plan.text);
      assert.match(plan.headers['content-type'] ?? '', /^application\/json/);
      assert.equal(plan.body.outcome.status, 'planned');
      assert.deepEqual(env.emulator.requestsSince(before, { writesOnly: true }), []);

      const applied = httpAnswer((await post(JSON.stringify({ resourceId: id, mode: 'apply' }))).response.returnValue);
      assert.equal(applied.status, 200, applied.text);
      assert.equal(applied.body.outcome.status, 'remediated');
      const principalId = env.emulator.state.resource(id)!.body.identity.principalId;

      const requestId = applied.body.requestId as string;
      const get = await host.invoke(fn('remediationsGet'), httpInput(fn('remediationsGet'), { method: 'GET', path: `remediations/${requestId}`, headers: { 'x-ms-client-principal': OPERATOR_PRINCIPAL }, params: { requestId } }));
      const lookup = httpAnswer(get.response.returnValue);
      assert.equal(lookup.status, 200, lookup.text);
      assert.equal(lookup.body.requestId ?? requestId, requestId);
      assert.equal(lookup.body.principalId, principalId);
      assert.equal(lookup.body.trigger, 'http');
    });

    const rejections: Array<[string, () => ReturnType<typeof post>, number, string]> = [
      ['a body without a content type', () => post(JSON.stringify({ resourceId: '/subscriptions/x', mode: 'plan' }), {}), 415, 'UnsupportedMediaType'],
      ['an oversize body', () => post(JSON.stringify({ mode: 'plan', pad: 'x'.repeat(40_000) })), 413, 'BodyTooLarge'],
      ['invalid JSON', () => post('{"resourceId": '), 400, 'InvalidJson'],
    ];
    for (const [label, send, status, code] of rejections) {
      it(`${label}: ${status} application/problem+json with code ${code}`, async () => {
        const { response } = await send();
        assert.equal(response.result.status, Status.Success, 'a rejection is an answer, not a failed invocation');
        const answer = httpAnswer(response.returnValue);
        assert.equal(answer.status, status, answer.text);
        assert.equal(answer.headers['content-type'], 'application/problem+json');
        assert.equal(answer.body.code, code);
        assert.equal(answer.body.status, status);
        assert.doesNotMatch(answer.text, /TypeError|at .*\.js:\d+/);
      });
    }
  });

  describe('timer and queue triggers', () => {
    let queued: string | undefined;

    it('a timer invocation (TimerInfo as the host serialises it) runs a sweep; isPastDue is honoured', async () => {
      const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-apps', type: SEED_TYPES.webApp, name: 'web-worker-sweep' });
      // TimerInfo (Microsoft.Azure.WebJobs.Extensions, Timers/TimerInfo.cs): Schedule, ScheduleStatus, IsPastDue,
      // serialised with its .NET property names; @azure/functions camel-cases it into `Timer`.
      const timerInfo = { Schedule: { AdjustForDST: true }, ScheduleStatus: { Last: '2026-01-01T00:00:00+00:00', Next: '2026-01-01T00:05:00+00:00', LastUpdated: '2026-01-01T00:00:00+00:00' }, IsPastDue: true };
      const timer = fn('complianceSweep');
      const { response, logs } = await host.invoke(timer, { inputData: [{ name: triggerBindingName(timer), data: json(timerInfo) }] });
      assert.equal(response.result.status, Status.Success, JSON.stringify(response.result));
      const events = userRecords(logs);
      assert.ok(events.some((e) => e.event === 'sweep.past-due'), `isPastDue reached the handler: ${events.map((e) => e.event)}`);
      assert.ok(events.some((e) => e.event === 'sweep.finished'), 'the sweep ran to the end');
      // The sweep queued the non-compliant resource on the remediation queue (Azurite).
      const queue = new QueueClient(storage.azurite.connectionString, sweepSettings(settings).queueName);
      const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
      queued = receivedMessageItems.map((m) => m.messageText).find((t) => t.includes(id.replace(/\/resourceGroups\//, '/resourcegroups/')) || t.includes(id));
      assert.ok(queued, `the sweep queued ${id}`);
    });

    it('an on-time tick (IsPastDue false) sweeps without the past-due warning', async () => {
      const timerInfo = { Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: false };
      const timer = fn('complianceSweep');
      const { response, logs } = await host.invoke(timer, { inputData: [{ name: triggerBindingName(timer), data: json(timerInfo) }] });
      assert.equal(response.result.status, Status.Success, JSON.stringify(response.result));
      const events = userRecords(logs).map((e) => e.event);
      assert.ok(events.includes('sweep.started'), events.join());
      assert.ok(!events.includes('sweep.past-due'), events.join());
    });

    // host.json: extensions.queues.messageEncoding "none": the extension passes the message text as
    // stored, no base64 decoding (Azure/azure-sdk-for-net sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Queues,
    // QueuesOptions.MessageEncoding). A script-language trigger binds it as a string -> TypedData.string;
    // the queue binding data (QueueTrigger, DequeueCount, Id, InsertionTime, ExpirationTime, NextVisibleTime,
    // PopReceipt: QueueTriggerBindingDataProvider) goes to triggerMetadata.
    const queueInput = (fnMeta: FunctionMetadata, text: string, dequeueCount = 1) => ({
      inputData: [{ name: triggerBindingName(fnMeta), data: { string: text } as TypedData }],
      triggerMetadata: {
        QueueTrigger: { string: text },
        DequeueCount: { int: String(dequeueCount) },
        Id: { string: '5f4e3a32-8c1f-4c43-9c1a-0e7f2a6f0b11' },
        PopReceipt: { string: 'AgAAAAMAAAAAAAAA' },
        InsertionTime: json('2026-01-01T00:00:00+00:00'),
        ExpirationTime: json('2026-01-08T00:00:00+00:00'),
        NextVisibleTime: json('2026-01-01T00:00:30+00:00'),
      } as Record<string, TypedData>,
    });

    it('the message the sweep queued, delivered as messageEncoding none delivers it, remediates the resource', async () => {
      assert.equal(JSON.parse(readFileSync(join(REPO, 'host.json'), 'utf8')).extensions.queues.messageEncoding, 'none');
      assert.ok(queued, 'the sweep test queued a message');
      const queue = fn('remediationQueue');
      const resourceId = JSON.parse(queued).resourceId as string;
      const { response, logs } = await host.invoke(queue, queueInput(queue, queued, 2));
      assert.equal(response.result.status, Status.Success, JSON.stringify(response.result));
      const body = env.emulator.state.resource(resourceId)!.body;
      assert.equal(body.identity?.type, 'SystemAssigned');
      const records = userRecords(logs);
      assert.ok(records.some((r) => r.dequeueCount === 2), `trigger metadata (DequeueCount) reached the handler: ${JSON.stringify(records)}`);
    });

    it('a malformed message fails the invocation (so it reaches the poison queue after maxDequeueCount)', async () => {
      const queue = fn('remediationQueue');
      for (const text of ['{"version": 1, "resourceId": ', JSON.stringify({ version: 1, resourceId: 'not-an-id' })]) {
        const before = env.emulator.lastSeq;
        const { response } = await host.invoke(queue, queueInput(queue, text));
        assert.equal(response.result.status, Status.Failure, text);
        assert.match(response.result.exception?.message ?? '', /malformed remediation message/);
        assert.deepEqual(env.emulator.requestsSince(before, { writesOnly: true }), []);
      }
    });
  });

  it('nothing the worker logged or printed holds a token or the identity endpoint secret', () => {
    const everything = JSON.stringify(host.logs) + host.output;
    assert.doesNotMatch(everything, /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/);
    assert.ok(!everything.includes(settings.IDENTITY_HEADER!), 'IDENTITY_HEADER stays out of logs');
    assert.ok(host.logs.some((l) => l.invocationId), 'invocation logs were seen');
  });
});
