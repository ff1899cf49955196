/**
 * `npm run infra:params` checks each `--custom-role "Name=GUID"` through ARM when a credential is
 * available: here the script runs as a child process with the emulator's managed-identity endpoint
 * (picked up by DefaultAzureCredential) and its ARM endpoint and CA.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { EXAMPLE_CUSTOM_ROLE_NAME, EXAMPLE_RULES_PATH, EXAMPLE_SUBSCRIPTION } from './example-rules.fixture';
import { runScriptAgainstEmulator, type ScriptResult } from './script-runner';

const env = useEmulator();

describe('infra:params checks --custom-role against ARM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopilot-custom-role-check-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const rulesPath = join(dir, 'rules.yaml');
  writeFileSync(rulesPath, readFileSync(EXAMPLE_RULES_PATH, 'utf8').replaceAll(EXAMPLE_SUBSCRIPTION, SUB_A));
  const guids: Record<string, string> = {};

  before(() => {
    const state = env.emulator.state;
    guids.reader = state.addCustomRole({
      roleName: EXAMPLE_CUSTOM_ROLE_NAME,
      actions: ['Microsoft.AppConfiguration/configurationStores/read'],
    }).guid;
    guids.other = state.addCustomRole({ roleName: 'Contoso Something Else', actions: ['Microsoft.Web/sites/read'] }).guid;
    guids.federator = state.addCustomRole({
      roleName: 'Contoso Federator',
      actions: ['Microsoft.AppConfiguration/configurationStores/read', 'Microsoft.ManagedIdentity/userAssignedIdentities/*/write'],
    }).guid;
  });

  /** Runs the script asynchronously: the emulator answers from this process. */
  function run(out: string, customRole: string): Promise<ScriptResult> {
    return runScriptAgainstEmulator(env.emulator, dir, 'scripts/infra/params.ts', [
      rulesPath,
      '--out',
      join(dir, out),
      '--custom-role',
      customRole,
    ]);
  }

  it('accepts the GUID of the custom role of that name, without a warning', async () => {
    const r = await run('ok.json', `${EXAMPLE_CUSTOM_ROLE_NAME}=${guids.reader}`);
    assert.equal(r.status, 0, r.stderr);
    // The only warnings left are the scoped grants the example's wildcard groups widen (permissions.ts).
    assert.deepEqual(
      r.stderr.split('\n').filter((l) => /warning/.test(l) && !/ held across /.test(l)),
      [],
    );
    const file = JSON.parse(readFileSync(join(dir, 'ok.json'), 'utf8'));
    assert.ok(file.parameters.assignableRoleDefinitionGuids.value.includes(guids.reader));
    assert.ok(
      env.emulator.requests.some((q) => q.method === 'GET' && q.path.toLowerCase().endsWith(`/roledefinitions/${guids.reader}`)),
      'read through ARM',
    );
  });

  it('refuses the GUID of another custom role (misnamed), writing nothing', async () => {
    const r = await run('misnamed.json', `${EXAMPLE_CUSTOM_ROLE_NAME}=${guids.other}`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${guids.other} is the role 'Contoso Something Else', not '${EXAMPLE_CUSTOM_ROLE_NAME}'`));
    assert.ok(!existsSync(join(dir, 'misnamed.json')));
  });

  it('refuses a GUID no role definition has', async () => {
    const r = await run('missing.json', `${EXAMPLE_CUSTOM_ROLE_NAME}=0badc0de-1111-4222-8333-444444444444`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no role definition 0badc0de-1111-4222-8333-444444444444 is visible in subscription/);
  });

  it('refuses a custom role whose permissions write federated identity credentials, even under the right name', async () => {
    // Rename it in ARM to the name the rules use: the name matches, the permissions do not pass.
    env.emulator.state.roleDefinitions.get(guids.federator)!.roleName = EXAMPLE_CUSTOM_ROLE_NAME.toUpperCase();
    const r = await run('privileged.json', `${EXAMPLE_CUSTOM_ROLE_NAME}=${guids.federator}`);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /custom role 'Contoso App Config Reader' allows Microsoft\.ManagedIdentity\/userAssignedIdentities\/federatedIdentityCredentials\/write/,
    );
    assert.ok(!existsSync(join(dir, 'privileged.json')));
  });
});
