/**
 * Conformance: the real Azure CLI (an independent client written against the real service) drives the
 * emulator. Every case asserts on the CLI's parsed JSON. Where the CLI and the emulator disagreed,
 * the emulator was fixed (each fix cites its source next to the code). Skips itself with a notice
 * when `az` is not installed (`.ci/run` installs it).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { TRIGGER_RULES } from '../functions/rules.fixture';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { AzureCli, azureCliAvailable } from './azure-cli';

const AVAILABLE = azureCliAvailable();
if (!AVAILABLE) {
  process.stdout.write(
    'NOTICE: Azure CLI conformance suite skipped: `az` is not installed (apt-get install azure-cli; .ci/run does it).\n',
  );
}

const RG = 'rg-conf';
const AUTHZ = '2020-04-01-preview'; // the CLI's role-assignment api-version (azure-cli-core profiles/_shared.py)
const ROLE_DEFS = '2018-01-01-preview'; // the CLI's role-definition api-version (same file)

describe('Azure CLI against the emulator', { skip: AVAILABLE ? false : 'az is not installed' }, () => {
  // RPs send Retry-After on their monitors; without it the CLI (msrestazure) waits 30 s between polls.
  const env = useEmulator({ lro: { durationMs: 100, retryAfterSeconds: 1 } });
  let cli: AzureCli;
  let login: { accounts: any[] };
  const ids = {} as Record<keyof typeof SEED_TYPES, string>;
  let ua: { id: string; properties: { principalId: string; clientId: string } };

  before(async () => {
    const emulator = env.emulator;
    emulator.state.addSubscription(SUB_A, 'Conformance subscription');
    grantAppOwner(emulator);
    for (const [label, type] of Object.entries(SEED_TYPES)) {
      ids[label as keyof typeof SEED_TYPES] = seedResource(emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: RG,
        type,
        name: `${label.toLowerCase()}-conf`,
      });
    }
    ua = seedUserAssignedIdentity(emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'id-conf-existing' }) as never;
    emulator.state.addCustomRole({
      roleName: 'Conformance Custom Reader',
      actions: ['Microsoft.Resources/subscriptions/resourceGroups/read'],
    });
    cli = new AzureCli({ armUrl: emulator.url, ca: emulator.ca, msiEndpoint: emulator.legacyManagedIdentityEnvironment.MSI_ENDPOINT });
    login = await cli.login();
  });
  after(() => {
    if (!cli) return;
    const total = cli.calls.reduce((s, c) => s + c.ms, 0);
    process.stdout.write(`az calls: ${cli.calls.length}, ${Math.round(total / 1000)} s of CLI time (some concurrent).\n`);
    cli.dispose();
  });

  const sub = `/subscriptions/${SUB_A}`;
  const rgScope = `${sub}/resourceGroups/${RG}`;

  describe('the three defects az login found', () => {
    it('az login --identity gets its token over MSI_ENDPOINT (Cloud Shell protocol: POST form, Metadata: true)', () => {
      const issued = env.emulator.tokensIssued.filter((t) => t.principalId === env.emulator.appPrincipal.id);
      assert.ok(
        issued.some((t) => t.resource === 'https://management.core.windows.net/'),
        JSON.stringify(issued),
      );
      assert.equal(login.accounts[0].user.type, 'servicePrincipal');
      assert.equal(login.accounts[0].user.name, 'systemAssignedIdentity');
    });

    it('ARM accepts the CLI token audience https://management.core.windows.net/', () => {
      const byCli = env.emulator.requests.filter((r) => r.principalId === env.emulator.appPrincipal.id);
      assert.ok(byCli.length > 0, 'the CLI made authenticated ARM calls');
      assert.equal(env.emulator.requests.filter((r) => r.errorCode === 'InvalidAuthenticationToken').length, 0);
    });

    it('GET /subscriptions (the first call after login) lists the subscription', () => {
      const list = env.emulator.requests.find((r) => r.method === 'GET' && r.path === '/subscriptions');
      assert.equal(list?.status, 200);
      assert.deepEqual(
        login.accounts.map((a) => ({ id: a.id, name: a.name, tenantId: a.tenantId, state: a.state })),
        [{ id: SUB_A, name: 'Conformance subscription', tenantId: env.emulator.state.tenantId, state: 'Enabled' }],
      );
    });
  });

  describe('accounts, groups, resources', () => {
    it('az account list / account show', async () => {
      const [list, show] = await Promise.all([cli.json(['account', 'list']), cli.json(['account', 'show'])]);
      assert.deepEqual(
        list.map((a: any) => a.id),
        [SUB_A],
      );
      assert.equal(show.id, SUB_A);
      assert.equal(show.isDefault, true);
      assert.equal(show.tenantId, env.emulator.state.tenantId);
    });

    it('az group list / group show', async () => {
      const [list, show] = await Promise.all([cli.json(['group', 'list']), cli.json(['group', 'show', '--name', RG])]);
      assert.ok(
        list.some((g: any) => g.name === RG && g.id === rgScope),
        JSON.stringify(list),
      );
      assert.equal(show.id, rgScope);
      assert.equal(show.location, 'westeurope');
      assert.equal(show.properties.provisioningState, 'Succeeded');
    });

    // One `az resource show --ids` with every seeded id (one CLI start), one case per type.
    let shownAll: Promise<any[]> | undefined;
    for (const [label, type] of Object.entries(SEED_TYPES)) {
      it(`az resource show --ids: ${type}`, async () => {
        shownAll ??= cli.json(['resource', 'show', '--ids', ...Object.values(ids)]);
        const id = ids[label as keyof typeof SEED_TYPES];
        const shown = (await shownAll).find((r) => r.id === id);
        const stored = env.emulator.state.resource(id)!.body;
        assert.ok(shown, `az showed ${id}`);
        assert.equal(shown.type, type);
        assert.equal(shown.location, stored.location);
        assert.deepEqual(withoutCliResourceGroups(shown.properties), stored.properties);
      });
    }
  });

  describe('identities on workloads', () => {
    it('az webapp identity assign / show / remove', async () => {
      const args = ['--resource-group', RG, '--name', 'webapp-conf'];
      const assigned = await cli.json(['webapp', 'identity', 'assign', ...args]);
      assert.equal(assigned.type, 'SystemAssigned');
      assert.equal(assigned.principalId, env.emulator.state.resource(ids.webApp)!.body.identity.principalId);
      const shown = await cli.json(['webapp', 'identity', 'show', ...args]);
      assert.deepEqual(
        { type: shown.type, principalId: shown.principalId, tenantId: shown.tenantId },
        { type: 'SystemAssigned', principalId: assigned.principalId, tenantId: env.emulator.state.tenantId },
      );
      const removed = await cli.json(['webapp', 'identity', 'remove', ...args]);
      assert.equal(removed.type, 'None');
      assert.equal(env.emulator.state.directory.get(assigned.principalId), undefined, 'the principal went with the identity');
    });

    it('az webapp identity assign --slot: the slot gets its own identity; the site keeps none', async () => {
      // The deployment slot seeded for the suite lives under its own site (`site-<slot name>`).
      const slotId = ids.deploymentSlot;
      const site = slotId.split('/').at(-3)!;
      const slot = slotId.split('/').pop()!;
      const assigned = await cli.json(['webapp', 'identity', 'assign', '--resource-group', RG, '--name', site, '--slot', slot]);
      assert.equal(assigned.type, 'SystemAssigned');
      assert.equal(assigned.principalId, env.emulator.state.resource(slotId)!.body.identity.principalId);
      assert.equal(
        env.emulator.state.resource(slotId.slice(0, slotId.indexOf('/slots/')))!.body.identity,
        undefined,
        "the site's identity is its own",
      );
      const shown = await cli.json(['webapp', 'identity', 'show', '--resource-group', RG, '--name', site, '--slot', slot]);
      assert.equal(shown.principalId, assigned.principalId);
    });

    it('az vm identity assign / show (system-assigned)', async (t) => {
      noteCompute(t);
      const args = ['--resource-group', RG, '--name', 'virtualmachine-conf'];
      const assigned = await cli.json(['vm', 'identity', 'assign', ...args], { compute: true });
      const shown = await cli.json(['vm', 'identity', 'show', ...args], { compute: true });
      assert.equal(shown.type, 'SystemAssigned');
      assert.equal(shown.principalId, assigned.systemAssignedIdentity);
      assert.equal(shown.principalId, env.emulator.state.resource(ids.virtualMachine)!.body.identity.principalId);
    });

    it('az vmss identity assign / show (system- and user-assigned)', async (t) => {
      noteCompute(t);
      const args = ['--resource-group', RG, '--name', 'scaleset-conf'];
      const system = await cli.json(['vmss', 'identity', 'assign', ...args], { compute: true });
      const both = await cli.json(['vmss', 'identity', 'assign', ...args, '--identities', '[system]', ua.id], { compute: true });
      assert.equal(
        both.systemAssignedIdentity,
        system.systemAssignedIdentity,
        'adding a user-assigned identity keeps the system-assigned one',
      );
      const shown = await cli.json(['vmss', 'identity', 'show', ...args], { compute: true });
      assert.equal(shown.type, 'SystemAssigned, UserAssigned');
      assert.equal(shown.principalId, system.systemAssignedIdentity);
      const [[uaId, uaValue]] = Object.entries(shown.userAssignedIdentities) as [[string, any]];
      assert.equal(uaId.toLowerCase(), ua.id.toLowerCase());
      assert.deepEqual(
        { principalId: uaValue.principalId, clientId: uaValue.clientId },
        { principalId: ua.properties.principalId, clientId: ua.properties.clientId },
      );
    });

    it('az container show / az aks show', async () => {
      const [aci, aks] = await Promise.all([
        cli.json(['container', 'show', '--resource-group', RG, '--name', 'containergroup-conf']),
        cli.json(['aks', 'show', '--resource-group', RG, '--name', 'managedcluster-conf']),
      ]);
      const aciStored = env.emulator.state.resource(ids.containerGroup)!.body;
      assert.equal(aci.id, ids.containerGroup);
      assert.equal(aci.osType, aciStored.properties.osType);
      assert.deepEqual(
        aci.containers.map((c: any) => c.image),
        aciStored.properties.containers.map((c: any) => c.properties.image),
      );
      const aksStored = env.emulator.state.resource(ids.managedCluster)!.body;
      assert.equal(aks.id, ids.managedCluster);
      assert.equal(aks.dnsPrefix, aksStored.properties.dnsPrefix);
      assert.equal(aks.agentPoolProfiles.length, aksStored.properties.agentPoolProfiles.length);
    });
  });

  describe('user-assigned identities and RBAC', () => {
    let created: any;
    it('az identity create / show / list', async () => {
      created = await cli.json(['identity', 'create', '--resource-group', RG, '--name', 'id-conf-new']);
      const [shown, listed] = await Promise.all([
        cli.json(['identity', 'show', '--resource-group', RG, '--name', 'id-conf-new']),
        cli.json(['identity', 'list', '--resource-group', RG]),
      ]);
      const principal = env.emulator.state.directory.get(created.principalId);
      assert.ok(principal, 'the identity has a principal in the directory');
      assert.equal(created.clientId, principal.clientId);
      assert.deepEqual(shown, created);
      assert.deepEqual(listed.map((i: any) => i.name).sort(), ['id-conf-existing', 'id-conf-new']);
    });

    it('az role assignment create --assignee-object-id --assignee-principal-type ServicePrincipal / list --assignee / delete', async (t) => {
      assert.ok(created, 'runs after az identity create');
      const principalId: string = created.principalId;
      let assignment: any;
      let listed: any[];
      if (!cli.roleModuleBroken) {
        assignment = await cli.json([
          'role',
          'assignment',
          'create',
          '--assignee-object-id',
          principalId,
          '--assignee-principal-type',
          'ServicePrincipal',
          '--role',
          'Reader',
          '--scope',
          rgScope,
        ]);
        listed = await cli.json(['role', 'assignment', 'list', '--assignee', principalId, '--all']);
      } else {
        noteRole(t);
        // role/custom.py create_role_assignment: resolve the role by name at the scope, then PUT a new GUID.
        const defs = await cli.rest(
          'get',
          `${rgScope}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName eq 'Reader'&api-version=${ROLE_DEFS}`,
        );
        assignment = await cli.rest(
          'put',
          `${rgScope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=${AUTHZ}`,
          {
            properties: { roleDefinitionId: defs.value[0].id, principalId, principalType: 'ServicePrincipal' },
          },
        );
        // list_role_assignments --all: `principalId eq` filter at the subscription.
        listed = (
          await cli.rest(
            'get',
            `${sub}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '${principalId}'&api-version=${AUTHZ}`,
          )
        ).value;
      }
      const props = assignment.properties ?? assignment;
      assert.equal(props.principalType, 'ServicePrincipal');
      assert.equal(props.roleDefinitionId.split('/').pop(), ROLE.reader);
      assert.equal(String(props.scope).toLowerCase(), rgScope.toLowerCase());
      assert.deepEqual(
        listed.map((a) => a.id),
        [assignment.id],
      );
      assert.equal(env.emulator.state.assignmentsFor(principalId).length, 1);

      if (!cli.roleModuleBroken) {
        await cli.json(['role', 'assignment', 'delete', '--assignee', principalId, '--role', 'Reader', '--scope', rgScope]);
      } else {
        // delete_role_assignments: list atScope() at the scope, keep the assignee's, DELETE each by id.
        const atScope = (
          await cli.rest('get', `${rgScope}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()&api-version=${AUTHZ}`)
        ).value;
        const mine = atScope.filter((a: any) => a.properties.principalId === principalId);
        assert.equal(mine.length, 1);
        await cli.rest('delete', `${mine[0].id}?api-version=${AUTHZ}`);
      }
      assert.equal(env.emulator.state.assignmentsFor(principalId).length, 0);
    });

    it('az role definition list --name "Reader" / --custom-role-only', async (t) => {
      let reader: any[];
      let custom: any[];
      if (!cli.roleModuleBroken) {
        [reader, custom] = await Promise.all([
          cli.json(['role', 'definition', 'list', '--name', 'Reader']),
          cli.json(['role', 'definition', 'list', '--custom-role-only']),
        ]);
      } else {
        noteRole(t);
        // _search_role_definitions: list at the subscription, filter by name or type on the client.
        const all = (await cli.rest('get', `${sub}/providers/Microsoft.Authorization/roleDefinitions?api-version=${ROLE_DEFS}`))
          .value as any[];
        reader = all.filter((r) => r.name === 'Reader' || r.properties.roleName === 'Reader');
        custom = all.filter((r) => r.properties.type === 'CustomRole');
      }
      assert.deepEqual(
        reader.map((r) => [r.name, r.properties?.roleName ?? r.roleName]),
        [[ROLE.reader, 'Reader']],
      );
      assert.deepEqual(
        custom.map((r) => r.properties?.roleName ?? r.roleName),
        ['Conformance Custom Reader'],
      );
    });
  });

  describe('after the product remediates, az shows what the outcome and ledger report', () => {
    const remediated = new Map<string, { id: string; outcome: Record<string, any>; ledger?: any }>();
    let seen: Promise<[any[], any]> | undefined;
    before(async () => {
      const app = buildApp(env, rulesFor(TRIGGER_RULES));
      await Promise.all(
        Object.entries(SEED_TYPES).map(async ([label, type]) => {
          const id = seedResource(env.emulator.state, {
            subscriptionId: SUB_A,
            resourceGroup: 'rg-apps',
            type,
            name: `${label.toLowerCase()}-fixed`,
          });
          const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
          const [ledger] = await app.ledger.byResourceId(id);
          remediated.set(type, { id, outcome: d.outcome ?? {}, ledger });
        }),
      );
    });
    for (const type of Object.values(SEED_TYPES)) {
      it(type, async () => {
        // Two CLI starts for all six types: every resource, and every role assignment in the subscription.
        seen ??= Promise.all([
          cli.json(['resource', 'show', '--ids', ...[...remediated.values()].map((r) => r.id)]),
          cli.rest('get', `${sub}/providers/Microsoft.Authorization/roleAssignments?api-version=${AUTHZ}`),
        ]);
        const { id, outcome, ledger } = remediated.get(type)!;
        // VMSS with a Manual upgrade policy end `pending` (instances not yet upgraded).
        assert.ok(['remediated', 'pending'].includes(outcome.status), JSON.stringify(outcome));
        const [resources, assignments] = await seen;
        const shown = resources.find((r) => r.id === id);
        // AKS grants the kubelet identity pods use by default (outcome.grantee.role 'kubelet').
        const granteePrincipal =
          outcome.grantee?.role === 'kubelet'
            ? shown.properties.identityProfile.kubeletidentity.objectId
            : (assert.equal(shown.identity.type, 'SystemAssigned'), shown.identity.principalId);
        assert.equal(granteePrincipal, outcome.principalId);
        const granted = (outcome.actions as any[])
          .filter((a) => a.kind === 'role-assigned')
          .map((a) => `${a.roleDefinitionId.split('/').pop()} @ ${a.scope.toLowerCase()}`)
          .sort();
        const inAzure = (assignments.value as any[])
          .filter((a) => a.properties.principalId === outcome.principalId)
          .map((a) => `${a.properties.roleDefinitionId.split('/').pop()} @ ${a.properties.scope.toLowerCase()}`)
          .sort();
        assert.ok(granted.length > 0);
        assert.deepEqual(inAzure, granted);
        assert.equal(ledger?.status, outcome.status);
        assert.equal(ledger?.principalId, granteePrincipal);
      });
    }
  });

  describe('scripts/infra/postdeploy.sh', () => {
    it('its az commands are either template deployments (not emulated) or run against the emulator unchanged', async () => {
      const script = readFileSync(join(__dirname, '..', '..', 'scripts', 'infra', 'postdeploy.sh'), 'utf8');
      const commands = azCommands(script);
      assert.ok(commands.length > 0, 'the script calls az');
      const deployments = commands.filter((c) => /^az deployment\b/.test(c));
      const others = commands.filter((c) => !/^az deployment\b/.test(c));
      for (const command of others) {
        const r = await cli.run(shellWords(command.replace(/^az\s+/, '')).map((w) => expandVariables(w)));
        assert.equal(r.code, 0, `${command}: ${r.stderr}`);
      }
      // Template deployments need the Bicep/ARM template engine, which the emulator does not model.
      assert.deepEqual(
        deployments.map((c) => c.split(/\s+/).slice(0, 4).join(' ')),
        ['az deployment sub create'],
      );
    });
  });

  function noteCompute(t: TestContext): void {
    if (cli.computeNeedsHybridProfile) {
      t.diagnostic(
        "Debian's azure-cli 2.45 lacks azure-mgmt-compute 2022-11-01: vm/vmss commands run with the cloud profile 2020-09-01-hybrid (compute 2020-06-01)",
      );
    }
  }
  function noteRole(t: TestContext): void {
    t.diagnostic(
      "Debian's azure-cli 2.45 role module fails before any request (azure-mgmt-authorization 3.0.0 has no `.config`): the same requests the command makes are sent with `az rest`",
    );
  }
});

/** The CLI adds `resourceGroup` next to every nested `id` in its output (azure-cli-core `commands/transform.py` `_add_resource_group`). */
function withoutCliResourceGroups(value: any): any {
  if (Array.isArray(value)) return value.map(withoutCliResourceGroups);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).filter(([k]) => !(k === 'resourceGroup' && typeof value.id === 'string'));
  return Object.fromEntries(entries.map(([k, v]) => [k, withoutCliResourceGroups(v)]));
}

/** `az ...` command lines of a shell script, with backslash continuations joined. */
function azCommands(script: string): string[] {
  return script
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^az\s/.test(l));
}

function shellWords(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** The values azd would export, pointing at the conformance estate. */
function expandVariables(word: string): string {
  const values: Record<string, string> = { AZURE_SUBSCRIPTION_ID: SUB_A, AZURE_LOCATION: 'westeurope', AZURE_ENV_NAME: 'conformance' };
  return word.replace(/\$\{?([A-Z_]+)\}?/g, (_, name: string) => values[name] ?? '');
}
