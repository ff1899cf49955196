import type { PlanBlocker } from '../../engine/types';
import { SPACED_IDENTITY_TYPES } from './identity-spelling';
import type { ResourceTypeHandler } from './model';

type Json = Record<string, unknown>;

const asObject = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const asArray = (v: unknown): Json[] => (Array.isArray(v) ? v.map(asObject).filter((x): x is Json => x !== undefined) : []);
const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

/** Names come from the resource's creator: quoted, bounded, never a value. */
function label(name: unknown): string {
  const text = typeof name === 'string' ? name : '?';
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

/**
 * The write-only fields of a container group that its GET leaves out, found by the shape the GET leaves
 * behind. Shapes from the 2023-05-01 spec (Azure/azure-rest-api-specs containerInstance.json, commit
 * 179aaf82): `EnvironmentVariable {name, value?, secureValue? (x-ms-secret)}`,
 * `ImageRegistryCredential {server, username?, password? (x-ms-secret), identity?}`,
 * `AzureFileVolume {shareName, storageAccountName, storageAccountKey?}`, `SecretVolume` (a map of file
 * contents), `LogAnalytics {workspaceId, workspaceKey (required, x-ms-secret)}`. That a GET omits them:
 * Azure/azure-libraries-for-java#856 (secure env vars come back as a bare name) and Terraform azurerm
 * `container_group_resource.go`, whose identity update re-inserts storage account keys, secret volumes
 * and the workspace key from its own config "otherwise the Update API call would fail".
 */
export function writeOnlyFields(body: Json): string[] {
  const props = asObject(body.properties) ?? {};
  const found: string[] = [];
  for (const list of ['initContainers', 'containers'] as const) {
    for (const container of asArray(props[list])) {
      for (const env of asArray(asObject(container.properties)?.environmentVariables)) {
        // A secure variable comes back as its name alone; a plain one keeps `value` (even an empty one).
        if (!('value' in env) && !present(env.secureValue)) {
          found.push(`${list}[${label(container.name)}].environmentVariables[${label(env.name)}].secureValue`);
        }
      }
    }
  }
  for (const credential of asArray(props.imageRegistryCredentials)) {
    // Identity-based registry auth (`identity`) has no password to lose.
    if (!present(credential.password) && !present(credential.identity))
      found.push(`imageRegistryCredentials[${label(credential.server)}].password`);
  }
  for (const volume of asArray(props.volumes)) {
    const azureFile = asObject(volume.azureFile);
    if (azureFile && !present(azureFile.storageAccountKey)) found.push(`volumes[${label(volume.name)}].azureFile.storageAccountKey`);
    // The contents of a secret volume are never returned, whatever the GET shows of it.
    if (volume.secret !== undefined) found.push(`volumes[${label(volume.name)}].secret`);
  }
  const logAnalytics = asObject(asObject(props.diagnostics)?.logAnalytics);
  if (logAnalytics && !present(logAnalytics.workspaceKey)) found.push('diagnostics.logAnalytics.workspaceKey');
  // Inferred (no source states it): `extensions[].properties.protectedSettings` is the same kind of
  // write-only bag, so a group with extensions is treated like one with secrets.
  for (const extension of asArray(props.extensions)) found.push(`extensions[${label(extension.name)}].protectedSettings`);
  return found;
}

/**
 * Group states from Learn (container-instances/container-state): Running, Pending, Stopped, Succeeded,
 * Failed. The last three have no running containers: a PUT would start a new deployment of a group
 * someone stopped, or that ran to completion (Learn: container-instances-stop-start).
 */
const NOT_RUNNING = new Set(['stopped', 'succeeded', 'failed', 'terminated']);

const MAX_LISTED = 10;

function listed(fields: string[]): string {
  const shown = fields.slice(0, MAX_LISTED).join(', ');
  return fields.length > MAX_LISTED ? `${shown} and ${fields.length - MAX_LISTED} more` : shown;
}

export function containerGroupBlockers(body: Json): PlanBlocker[] {
  const blockers: PlanBlocker[] = [];
  const secrets = writeOnlyFields(body);
  if (secrets.length > 0) {
    blockers.push({
      code: 'RequiresRedeploy',
      detail:
        `the container group holds write-only fields that Azure never returns on GET (${listed(secrets)}); ` +
        'writing the identity needs a PUT of the whole group, which would fail or wipe them',
      remedy:
        "set the identity when the group is created: add `identity: { type: 'SystemAssigned' }` (or the user-assigned identity) " +
        'to the container group in the deployment template (Bicep/ARM, Terraform `identity` block, az container create --assign-identity) and redeploy it',
    });
  }
  const state = asObject(asObject(body.properties)?.instanceView)?.state;
  if (typeof state === 'string' && NOT_RUNNING.has(state.toLowerCase())) {
    blockers.push({
      code: 'ContainerGroupNotRunning',
      detail: `the container group is ${label(state)}; a PUT would deploy and start it again`,
      remedy:
        'start the group (az container start) to have it remediated by the next sweep, or set the identity in its template when it is redeployed',
    });
  }
  if (blockers.length === 0) {
    blockers.push({
      code: 'RestartNotAllowed',
      detail: 'writing the identity is a PUT of the whole container group, which restarts every container in it',
      remedy:
        "set `workload: { allowRestart: true }` on the rule to allow the restart, or set the identity in the group's deployment template",
      waivedBy: 'allowRestart',
    });
  }
  return blockers;
}

/** ContainerGroups_Update takes tags only: GET, set identity, PUT the whole group (long-running). */
export const containerGroups: ResourceTypeHandler = {
  type: 'Microsoft.ContainerInstance/containerGroups',
  apiVersion: '2023-05-01',
  identityWrite: 'get-modify-put',
  writeOperation: 'Microsoft.ContainerInstance/containerGroups/write',
  note: 'identity is written by PUT of the whole container group, which restarts its containers',
  identityTypeSpelling: SPACED_IDENTITY_TYPES,
  writeBlockers: containerGroupBlockers,
  // A group PUT restarts its containers and takes a minute or more (Learn: container-instances-update).
  busyRetrySeconds: 30,
  // 409 ContainerGroupTransitioning, "The container group '<name>' is still transitioning, please retry
  // later." (Learn troubleshooting: azure-container-instances/configuration-setup/container-group-transitioning).
  isBusyConflict: (status, code) => status === 409 && code === 'ContainerGroupTransitioning',
};
