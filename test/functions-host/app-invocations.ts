// The suite run over each build of the app (packaged-app.test.ts, source-build.test.ts): the app in a
// process of its own over our `@azure/functions-core` stand-in, so @azure/functions registers for real
// and its InvocationModel converts each trigger's RPC request into the handler's arguments and the
// result back. What the host would be told (registrations), and each trigger end to end: the handlers
// reach the ARM emulator and Azurite as they reach Azure.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { QueueClient } from '@azure/storage-queue';
import { triggerSpecs } from '../../src/functions/trigger-specs';
import { sweepSettings } from '../../src/settings/settings';
import { resourceWriteEvent, SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import { TRIGGER_RULES } from '../functions/rules.fixture';
import { grantAppOwner } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { EASY_AUTH_ON, OPERATOR_PRINCIPAL } from '../support/easy-auth';
import { SUB_A, takeSpecViolations, useEmulator } from '../support/emulator-fixture';
import { AppHost } from './app-host';
import { emulatorAppSettings } from './app-settings';
import type { RpcLog } from './rpc';
import {
  bindingsOf,
  eventGridRequest,
  type HttpCall,
  httpAnswer,
  httpRequest,
  queueRequest,
  timerRequest,
  triggerBindingName,
} from './rpc-requests';

const REPO = join(__dirname, '..', '..');
const sampleSettings = JSON.parse(readFileSync(join(REPO, 'local.settings.sample.json'), 'utf8')).Values as Record<string, string>;
const libraryVersion = JSON.parse(readFileSync(require.resolve('@azure/functions/package.json'), 'utf8')).version as string;

/** The structured records the handler logged through `context.log` (the library's 'user' category). */
const userRecords = (logs: RpcLog[]): Record<string, any>[] =>
  logs.filter((l) => l.logCategory === 'user').map((l) => JSON.parse(l.message) as Record<string, any>);

export function describeAppInvocations(label: string, appDir: () => string): void {
  const env = useEmulator();
  const storage = useAzurite();

  describe(`${label}, its @azure/functions driven through @azure/functions-core`, () => {
    let app: AppHost;
    let settings: Record<string, string>;
    const registered = (kind: string) => app.functions.flatMap((f) => bindingsOf(f).filter((b) => b.type === kind));

    before(async () => {
      grantAppOwner(env.emulator);
      settings = emulatorAppSettings(env.emulator, TRIGGER_RULES, {
        // App Service authentication in front: the HTTP calls below come from an Entra caller with both app roles.
        ...EASY_AUTH_ON,
        AzureWebJobsStorage: storage.azurite.connectionString,
        AUTOPILOT_REMEDIATION_BUDGET_SECONDS: '3',
        AUTOPILOT_SWEEP_SCHEDULE: '0 */5 * * * *',
      });
      app = await AppHost.start({ appDir: appDir(), env: settings });
    });
    after(async () => {
      await app?.close();
    });

    describe('registrations, as the host would receive them', () => {
      it("the app installs @azure/functions' own programming model, with no hooks and no HTTP streaming", () => {
        assert.deepEqual(app.programmingModel, { name: '@azure/functions', version: libraryVersion });
        // Without `@azure/functions-core` the library only warns that it is "in test mode" and registers nothing.
        assert.doesNotMatch(app.output, /test mode/);
        // Hooks and the streaming proxy would change how invocations run; the requests below assume neither.
        assert.deepEqual(app.hooks, []);
        assert.equal(app.capabilities.HttpUri, undefined);
      });

      it('exactly the functions of the trigger table, each with the binding type its trigger needs', () => {
        const expected = triggerSpecs(sweepSettings(settings));
        const types = { eventGrid: 'eventGridTrigger', http: 'httpTrigger', timer: 'timerTrigger', storageQueue: 'queueTrigger' } as const;
        assert.deepEqual(app.functions.map((f) => f.name).sort(), expected.map((s) => s.name).sort());
        for (const spec of expected) {
          const bindings = bindingsOf(app.fn(spec.name));
          const inputs = bindings.filter((b) => b.direction === 'in');
          assert.equal(inputs.length, 1, `${spec.name}: one input binding, the trigger`);
          assert.equal(inputs[0]!.type, types[spec.kind], spec.name);
          // The host reads function.json-style binding names: letters, digits, `$return` for the return value.
          for (const b of bindings) assert.match(b.name, /^([A-Za-z][A-Za-z0-9]*|\$return)$/, `${spec.name}: binding name ${b.name}`);
        }
      });

      it('HTTP functions: an httpTrigger in, the `http` $return out, known methods and auth levels, routes that do not clash', () => {
        const http = app.functions.filter((f) => bindingsOf(f).some((b) => b.type === 'httpTrigger'));
        assert.ok(http.length >= 4);
        const routes = new Map<string, string>();
        for (const f of http) {
          const [trigger] = bindingsOf(f).filter((b) => b.type === 'httpTrigger') as Record<string, any>[];
          const out = bindingsOf(f).filter((b) => b.direction === 'out');
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
        const [timer] = registered('timerTrigger');
        assert.ok(timer, 'a timerTrigger is registered');
        const schedule = String(timer.schedule);
        const setting = /^%(.+)%$/.exec(schedule)?.[1];
        const resolved = setting ? settings[setting] : schedule;
        assert.equal(resolved, '0 */5 * * * *', 'AUTOPILOT_SWEEP_SCHEDULE reaches the binding');
        assert.equal(String(resolved).split(/\s+/).length, 6);
      });

      it('queue: a queueTrigger on a valid queue name, with a connection local.settings.sample.json defines', () => {
        const [queue] = registered('queueTrigger');
        assert.ok(queue, 'a queueTrigger is registered');
        assert.match(String(queue.queueName), /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/);
        assert.ok(String(queue.connection) in sampleSettings, `connection ${queue.connection} is an app setting of the sample`);
        assert.equal(queue.queueName, sweepSettings(settings).queueName, 'the queue the sweep fills is the one the trigger reads');
      });

      it('Event Grid: an eventGridTrigger with no connection or options the extension does not know', () => {
        const [grid] = registered('eventGridTrigger');
        assert.ok(grid, 'an eventGridTrigger is registered');
        assert.deepEqual(
          Object.keys(grid).filter((k) => !['type', 'name', 'direction', 'properties'].includes(k)),
          [],
        );
      });
    });

    describe('Event Grid trigger', () => {
      // A web app (a synchronous PATCH) and a container app (a long-running operation), one per schema.
      const cases = [
        { schema: 'EventGridSchema', type: SEED_TYPES.webApp, name: 'web-rpc-grid' },
        { schema: 'CloudEventSchemaV1_0', type: SEED_TYPES.containerApp, name: 'ca-rpc-cloud' },
      ] as const;
      for (const { schema, type, name } of cases) {
        it(`a ResourceWriteSuccess event (${schema}, ${name}) remediates the resource; the handler's logs carry the invocation id`, async () => {
          const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-apps', type, name });
          const event = resourceWriteEvent({ resourceId: id, schema });
          const { response, logs } = await app.invoke('resourceWriteSuccess', eventGridRequest(app.fn('resourceWriteSuccess'), event));
          assert.equal(response.result.status, 'success', JSON.stringify(response.result));
          const identity = env.emulator.state.resource(id)!.body.identity;
          assert.equal(identity?.type, 'SystemAssigned');
          assert.ok(env.emulator.state.assignmentsFor(identity.principalId).length > 0, 'roles were granted');
          const outcome = userRecords(logs).find((r) => r.event === 'remediation.outcome');
          assert.equal(outcome?.status, 'remediated');
          assert.equal(outcome?.correlationId, event.data.correlationId);
          const userLogs = logs.filter((l) => l.logCategory === 'user');
          assert.ok(userLogs.length > 0, 'the handler logged through context');
          for (const l of userLogs) assert.equal(l.invocationId, response.invocationId);
        });
      }

      it('a transient failure is handed to the remediation queue and the invocation succeeds (no Event Grid redelivery), with no secret in it', async () => {
        const id = seedResource(env.emulator.state, {
          subscriptionId: SUB_A,
          resourceGroup: 'rg-apps',
          type: SEED_TYPES.webApp,
          name: 'web-rpc-503',
        });
        const fault = env.emulator.faults.add({
          path: 'web-rpc-503',
          method: 'PATCH',
          action: { kind: 'error', status: 503, code: 'ServiceUnavailable', retryAfterSeconds: 0 },
        });
        try {
          const { response, logs } = await app.invoke(
            'resourceWriteSuccess',
            eventGridRequest(app.fn('resourceWriteSuccess'), resourceWriteEvent({ resourceId: id })),
          );
          // The host's storage holds the remediation queue: the rest is handed off there, not left to Event Grid.
          assert.equal(response.result.status, 'success');
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
        const trigger = triggerBindingName(app.fn('resourceWriteSuccess'));
        const { response, logs } = await app.invoke('resourceWriteSuccess', {
          inputData: [{ name: trigger, data: { string: 'not an event' } }],
        });
        assert.equal(env.emulator.requestsSince(before, { writesOnly: true }).length, 0);
        // Permanent: retrying cannot fix it, so the invocation succeeds (no redelivery storm) and says why.
        assert.equal(response.result.status, 'success', JSON.stringify(response.result));
        const rejected = userRecords(logs).find((r) => r.event === 'event.rejected');
        assert.equal(rejected?.reason, 'malformed');
        assert.doesNotMatch(rejected?.detail ?? '', /TypeError|Cannot read prop/);
      });
    });

    describe('HTTP trigger through RpcHttp', () => {
      const call = (name: string, request: HttpCall) =>
        app.invoke(
          name,
          httpRequest(app.fn(name), { ...request, headers: { 'x-ms-client-principal': OPERATOR_PRINCIPAL, ...request.headers } }),
        );
      const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
        call('remediationsPost', { method: 'POST', path: 'remediations', headers, body });

      it('POST plan, POST apply, then GET the ledger entry by request id', async () => {
        const id = seedResource(env.emulator.state, {
          subscriptionId: SUB_A,
          resourceGroup: 'rg-http',
          type: SEED_TYPES.webApp,
          name: 'web-rpc-http',
        });
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
        const get = await call('remediationsGet', { method: 'GET', path: `remediations/${requestId}`, params: { requestId } });
        const lookup = httpAnswer(get.response.returnValue);
        assert.equal(lookup.status, 200, lookup.text);
        assert.equal(lookup.body.requestId ?? requestId, requestId);
        assert.equal(lookup.body.principalId, principalId);
        assert.equal(lookup.body.trigger, 'http');
      });

      const rejections: Array<[string, () => ReturnType<typeof post>, number, string]> = [
        [
          'a body without a content type',
          () => post(JSON.stringify({ resourceId: '/subscriptions/x', mode: 'plan' }), {}),
          415,
          'UnsupportedMediaType',
        ],
        ['an oversize body', () => post(JSON.stringify({ mode: 'plan', pad: 'x'.repeat(40_000) })), 413, 'BodyTooLarge'],
        ['invalid JSON', () => post('{"resourceId": '), 400, 'InvalidJson'],
      ];
      for (const [label, send, status, code] of rejections) {
        it(`${label}: ${status} application/problem+json with code ${code}`, async () => {
          const { response } = await send();
          assert.equal(response.result.status, 'success', 'a rejection is an answer, not a failed invocation');
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
        const id = seedResource(env.emulator.state, {
          subscriptionId: SUB_A,
          resourceGroup: 'rg-apps',
          type: SEED_TYPES.webApp,
          name: 'web-rpc-sweep',
        });
        const ScheduleStatus = {
          Last: '2026-01-01T00:00:00+00:00',
          Next: '2026-01-01T00:05:00+00:00',
          LastUpdated: '2026-01-01T00:00:00+00:00',
        };
        const { response, logs } = await app.invoke(
          'complianceSweep',
          timerRequest(app.fn('complianceSweep'), { ScheduleStatus, IsPastDue: true }),
        );
        assert.equal(response.result.status, 'success', JSON.stringify(response.result));
        const events = userRecords(logs);
        assert.ok(
          events.some((e) => e.event === 'sweep.past-due'),
          `isPastDue reached the handler: ${events.map((e) => e.event)}`,
        );
        assert.ok(
          events.some((e) => e.event === 'sweep.finished'),
          'the sweep ran to the end',
        );
        // The sweep queued the non-compliant resource on the remediation queue (Azurite).
        const queue = new QueueClient(storage.azurite.connectionString, sweepSettings(settings).queueName);
        const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
        queued = receivedMessageItems
          .map((m) => m.messageText)
          .find((t) => t.includes(id.replace(/\/resourceGroups\//, '/resourcegroups/')) || t.includes(id));
        assert.ok(queued, `the sweep queued ${id}`);
      });

      it('an on-time tick (IsPastDue false) sweeps without the past-due warning', async () => {
        const { response, logs } = await app.invoke('complianceSweep', timerRequest(app.fn('complianceSweep'), { IsPastDue: false }));
        assert.equal(response.result.status, 'success', JSON.stringify(response.result));
        const events = userRecords(logs).map((e) => e.event);
        assert.ok(events.includes('sweep.started'), events.join());
        assert.ok(!events.includes('sweep.past-due'), events.join());
      });

      it('the message the sweep queued, delivered as messageEncoding none delivers it, remediates the resource; DequeueCount (int64) reaches the handler', async () => {
        assert.equal(JSON.parse(readFileSync(join(REPO, 'host.json'), 'utf8')).extensions.queues.messageEncoding, 'none');
        assert.ok(queued, 'the sweep test queued a message');
        const resourceId = JSON.parse(queued).resourceId as string;
        const { response, logs } = await app.invoke('remediationQueue', queueRequest(app.fn('remediationQueue'), queued, 2));
        assert.equal(response.result.status, 'success', JSON.stringify(response.result));
        assert.equal(env.emulator.state.resource(resourceId)!.body.identity?.type, 'SystemAssigned');
        const records = userRecords(logs);
        assert.ok(
          records.length > 0 && records.every((r) => r.dequeueCount === 2),
          `DequeueCount reached the handler as 2: ${JSON.stringify(records.map((r) => r.dequeueCount))}`,
        );
      });

      it('a malformed message is logged and dropped: the invocation succeeds, so the host does not retry what would fail the same way', async () => {
        for (const text of ['{"version": 1, "resourceId": ', JSON.stringify({ version: 1, resourceId: 'not-an-id' })]) {
          const before = env.emulator.lastSeq;
          const { response, logs } = await app.invoke('remediationQueue', queueRequest(app.fn('remediationQueue'), text));
          assert.equal(response.result.status, 'success', text);
          assert.ok(
            userRecords(logs).some((r) => r.event === 'queue.message.rejected'),
            'logged as rejected',
          );
          assert.deepEqual(env.emulator.requestsSince(before, { writesOnly: true }), []);
        }
      });
    });

    it('nothing the app logged or printed holds a token or the identity endpoint secret', () => {
      const everything = JSON.stringify([app.logs, app.systemLogs]) + app.output;
      assert.doesNotMatch(everything, /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/);
      assert.ok(!everything.includes(settings.IDENTITY_HEADER!), 'IDENTITY_HEADER stays out of logs');
      assert.ok(
        app.logs.some((l) => l.invocationId && l.logCategory === 'user'),
        'invocation logs were seen',
      );
    });
  });
}
