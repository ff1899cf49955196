/**
 * `npm run infra:params [-- RULES_FILE] [--out FILE] [--custom-role "Name=GUID" ...] [--offline]`
 *
 * Reads the rules file and writes the permissions the deployed app needs (see permissions.ts) as an
 * ARM deployment parameters file, `infra/app-permissions.parameters.json` by default. infra/main.bicep
 * loads that file at build time, so re-running this script and `azd provision` after a change to the
 * rules is how the app's access is widened or narrowed.
 *
 * The rules file defaults to config/rules.yaml, then config/rules.example.yaml. Custom roles
 * (`customRole:` entries) cannot be resolved offline: give their GUIDs with --custom-role, or in the
 * environment variable AUTOPILOT_CUSTOM_ROLES ("Name=GUID;Other name=GUID"), which azd hooks inherit.
 * Each pair is checked (custom-role-check.ts): never a built-in GUID, and, with an Azure credential
 * (skipped by --offline), the role's name and permissions as ARM has them; pairs it could not check
 * are reported on stderr.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { PUBLIC_ARM_ENDPOINT } from '../../src/azure/clients';
import { ArmManagementGroupPort } from '../../src/azure/management-group-port';
import { loadRulesFile } from '../../src/config/load';
import type { RulesConfig } from '../../src/config/types';
import { GovernedSubscriptions } from '../../src/engine/governed-subscriptions';
import { armRoleLookup, checkCustomRoles } from './custom-role-check';
import {
  AppPermissionsError,
  buildRoleAssignmentCondition,
  type DeriveOptions,
  deriveAppPermissions,
  type ScopedGrant,
  widenedGrantWarnings,
} from './permissions';

export const DEFAULT_RULES_PATHS = ['config/rules.yaml', 'config/rules.example.yaml'] as const;
export const DEFAULT_OUT_PATH = 'infra/app-permissions.parameters.json';
export const CUSTOM_ROLES_ENV = 'AUTOPILOT_CUSTOM_ROLES';

/** The parameters file's shape; main.bicep reads `parameters.<name>.value`. */
export interface AppPermissionsParametersFile {
  $schema: string;
  contentVersion: string;
  parameters: {
    governedSubscriptionIds: { value: string[] };
    governedResourceTypes: { value: string[] };
    engineRoleActions: { value: string[] };
    assignableRoleDefinitionGuids: { value: string[] };
    /** The role assigner custom role's actions; empty when no profile grants any role. */
    roleAssignerActions: { value: string[] };
    /** Empty when no profile grants any role: then the engine gets no role-assignment rights at all. */
    roleAssignmentCondition: { value: string };
    /**
     * Roles held only where the rules' bounds allow (permissions.ts `scopedGrants`): federated credentials,
     * identity deletes, Cosmos DB SQL role assignments, Dapr component writes. main.bicep creates one
     * custom role per entry and assigns it at each scope (resource group, Cosmos DB account or subscription).
     */
    scopedRoles: { value: ScopedRoleParameter[] };
  };
}

export type ScopedRoleParameter = Pick<ScopedGrant, 'key' | 'roleName' | 'description' | 'actions' | 'scopes'>;

export function renderAppPermissionsParameters(config: RulesConfig, options: DeriveOptions = {}): AppPermissionsParametersFile {
  const permissions = deriveAppPermissions(config, options);
  const condition = permissions.assignableRoleGuids.length > 0 ? buildRoleAssignmentCondition(permissions.assignableRoleGuids) : '';
  return {
    $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#',
    contentVersion: '1.0.0.0',
    parameters: {
      governedSubscriptionIds: { value: permissions.subscriptions },
      governedResourceTypes: { value: [...config.scope.resourceTypes] },
      engineRoleActions: { value: permissions.actions },
      assignableRoleDefinitionGuids: { value: permissions.assignableRoleGuids },
      roleAssignerActions: { value: permissions.roleAssignerActions },
      roleAssignmentCondition: { value: condition },
      scopedRoles: {
        value: permissions.scopedGrants.map(({ key, roleName, description, actions, scopes }) => ({
          key,
          roleName,
          description,
          actions,
          scopes,
        })),
      },
    },
  };
}

/**
 * The rules with every subscription now under `scope.managementGroups` governed too, resolved with the
 * deployer's credential, so main.bicep grants the app its roles in each of them. Offline, only the listed
 * subscriptions are known: that is an error when the rules list none.
 */
export async function withManagementGroupsResolved(
  config: RulesConfig,
  options: { offline: boolean; env: NodeJS.ProcessEnv; credential?: TokenCredential },
): Promise<RulesConfig> {
  const groups = config.scope.managementGroups ?? [];
  if (groups.length === 0) return config;
  if (options.offline) {
    if (config.scope.subscriptions.length === 0)
      throw new AppPermissionsError(
        'ManagementGroupsNeedArm',
        `the rules govern by management group only (${groups.join(', ')}); resolving them needs ARM, so run without --offline`,
      );
    console.error(`infra:params: warning: --offline: subscriptions under ${groups.join(', ')} get no grants; run online to include them`);
    return config;
  }
  const env = options.env;
  const connection = {
    endpoint: env.AUTOPILOT_ARM_ENDPOINT?.trim() || PUBLIC_ARM_ENDPOINT,
    credential: options.credential ?? new DefaultAzureCredential(),
    ca: env.AUTOPILOT_ARM_CA_PATH?.trim() ? readFileSync(env.AUTOPILOT_ARM_CA_PATH.trim(), 'utf8') : undefined,
  };
  return new GovernedSubscriptions(config, new ArmManagementGroupPort(connection)).resolved(AbortSignal.timeout(120_000));
}

/** `Name=GUID` -> [Name, GUID]; the last `=` splits, since role names may contain one but GUIDs cannot. */
export function parseCustomRoleArg(arg: string): [string, string] {
  const at = arg.lastIndexOf('=');
  const name = at > 0 ? arg.slice(0, at).trim() : '';
  const guid = at > 0 ? arg.slice(at + 1).trim() : '';
  if (!name || !guid) throw new AppPermissionsError('InvalidRoleGuid', `--custom-role expects "Name=GUID", got '${arg}'`);
  return [name, guid];
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      'custom-role': { type: 'string', multiple: true },
      offline: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 1) throw new Error(`expected at most one rules file, got: ${positionals.join(' ')}`);

  const rulesPath = positionals[0]
    ? resolve(cwd, positionals[0])
    : DEFAULT_RULES_PATHS.map((p) => resolve(cwd, p)).find((p) => existsSync(p));
  if (!rulesPath) throw new Error(`no rules file: none of ${DEFAULT_RULES_PATHS.join(', ')} exists under ${cwd}`);

  const fromEnv = (env[CUSTOM_ROLES_ENV] ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
  const customRoleGuids = new Map([...fromEnv, ...(values['custom-role'] ?? [])].map(parseCustomRoleArg));

  const config = await withManagementGroupsResolved(loadRulesFile(rulesPath), { offline: values.offline ?? false, env });
  if (config.scope.subscriptions.length === 0)
    throw new AppPermissionsError(
      'NoGovernedSubscriptions',
      `no subscription is governed: ${config.scope.managementGroups?.join(', ')} hold none the deployer can see`,
    );
  if (customRoleGuids.size > 0) {
    const arm = values.offline ? { reason: '--offline' } : await armRoleLookup(env);
    const warnings = await checkCustomRoles(
      customRoleGuids,
      config.scope.subscriptions[0]!,
      'lookup' in arm ? arm.lookup : undefined,
      'reason' in arm ? arm.reason : undefined,
    );
    for (const warning of warnings) console.error(`infra:params: warning: ${warning}`);
  }
  const file = renderAppPermissionsParameters(config, { customRoleGuids });
  for (const warning of widenedGrantWarnings(deriveAppPermissions(config, { customRoleGuids })))
    console.error(`infra:params: warning: ${warning}`);
  const outPath = resolve(cwd, values.out ?? DEFAULT_OUT_PATH);
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, `${JSON.stringify(file, null, 2)}\n`);

  const p = file.parameters;
  console.log(
    `${outPath}: from ${rulesPath}: ${p.governedSubscriptionIds.value.length} subscription(s), ` +
      `${p.engineRoleActions.value.length} action(s), ${p.assignableRoleDefinitionGuids.value.length} assignable role(s)`,
  );
  return outPath;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`infra:params: ${(err as Error).message}`);
    process.exit(1);
  });
}
