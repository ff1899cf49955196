import { ArmError } from '../arm-error';
import type { Json } from '../state';
import { type ResourceTypeModel, SPACED_IDENTITY_TYPES } from './model';

const objects = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x) => x && typeof x === 'object' && !Array.isArray(x)) : []);
const byName = (list: unknown, field = 'name'): Map<string, Json> => new Map(objects(list).map((x) => [String(x[field]), x]));
const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

/**
 * What a GET of a container group leaves out: `environmentVariables[].secureValue` (a secure variable
 * comes back as its name alone: Azure/azure-libraries-for-java#856), `imageRegistryCredentials[].password`,
 * `volumes[].azureFile.storageAccountKey`, the contents of `secret` volumes and
 * `diagnostics.logAnalytics.workspaceKey` (Terraform azurerm `container_group_resource.go` re-sends the
 * last three from its config on update because the API does not return them; the spec marks
 * password and workspaceKey `x-ms-secret`). `extensions[].properties.protectedSettings` is left out too
 * (inferred from its name; stricter).
 */
function readView(body: Json): Json {
  const view = structuredClone(body);
  const props = view.properties ?? {};
  for (const list of ['containers', 'initContainers']) {
    for (const container of objects(props[list])) {
      for (const env of objects(container.properties?.environmentVariables)) delete env.secureValue;
    }
  }
  for (const credential of objects(props.imageRegistryCredentials)) delete credential.password;
  for (const volume of objects(props.volumes)) {
    if (volume.azureFile && typeof volume.azureFile === 'object') delete volume.azureFile.storageAccountKey;
    if (volume.secret !== undefined) volume.secret = {};
  }
  if (props.diagnostics?.logAnalytics) delete props.diagnostics.logAnalytics.workspaceKey;
  for (const extension of objects(props.extensions)) if (extension.properties) delete extension.properties.protectedSettings;
  return view;
}

/**
 * The secrets a PUT over `stored` would drop: an item kept by name (env var, registry server, volume,
 * log analytics) whose write-only field the PUT leaves empty. Removing the item altogether, or
 * sending a new value, is a legitimate change and is accepted.
 */
function droppedSecrets(stored: Json, input: Json): string[] {
  const before = stored.properties ?? {};
  const after = input.properties ?? {};
  const dropped: string[] = [];
  for (const list of ['containers', 'initContainers']) {
    const next = byName(after[list]);
    for (const container of objects(before[list])) {
      const envs = byName(next.get(String(container.name))?.properties?.environmentVariables);
      for (const env of objects(container.properties?.environmentVariables)) {
        const sent = envs.get(String(env.name));
        if (present(env.secureValue) && sent && !present(sent.secureValue) && !('value' in sent)) {
          dropped.push(`${list}[${container.name}].environmentVariables[${env.name}].secureValue`);
        }
      }
    }
  }
  const credentials = byName(after.imageRegistryCredentials, 'server');
  for (const credential of objects(before.imageRegistryCredentials)) {
    const sent = credentials.get(String(credential.server));
    if (present(credential.password) && sent && !present(sent.password) && !present(sent.identity)) {
      dropped.push(`imageRegistryCredentials[${credential.server}].password`);
    }
  }
  const volumes = byName(after.volumes);
  for (const volume of objects(before.volumes)) {
    const sent = volumes.get(String(volume.name));
    if (!sent) continue;
    if (present(volume.azureFile?.storageAccountKey) && sent.azureFile && !present(sent.azureFile.storageAccountKey)) {
      dropped.push(`volumes[${volume.name}].azureFile.storageAccountKey`);
    }
    if (
      volume.secret &&
      Object.keys(volume.secret).length > 0 &&
      sent.secret !== undefined &&
      Object.keys(sent.secret ?? {}).length === 0
    ) {
      dropped.push(`volumes[${volume.name}].secret`);
    }
  }
  if (
    present(before.diagnostics?.logAnalytics?.workspaceKey) &&
    after.diagnostics?.logAnalytics &&
    !present(after.diagnostics.logAnalytics.workspaceKey)
  ) {
    dropped.push('diagnostics.logAnalytics.workspaceKey');
  }
  return dropped;
}

/**
 * ContainerGroups_Update takes tags only, so identity is written by GET-modify-PUT of the whole group
 * (which restarts its containers).
 */
export const containerGroups: ResourceTypeModel = {
  type: 'Microsoft.ContainerInstance/containerGroups',
  // 2022-10-01-preview: what `az container` sends (azure-mgmt-containerinstance in Debian's azure-cli 2.45, _configuration.py default); spec
  // Azure/azure-rest-api-specs specification/containerinstance/resource-manager/Microsoft.ContainerInstance/preview/2022-10-01-preview.
  apiVersions: ['2021-10-01', '2022-09-01', '2022-10-01-preview', '2023-05-01'],
  patch: 'tags-only',
  identityTypes: SPACED_IDENTITY_TYPES,
  putLro: 'async-operation',
  patchLro: 'sync',
  operationsSegment: 'operations',
  // ContainerGroups_Delete (containerInstance.json 2023-05-01) is long-running (@azure/arm-containerinstance
  // 9.1.0, generated from it, has beginDelete); its 202 declares no header: the emulator sends the
  // Azure-AsyncOperation monitor its PUTs use (inferred), and the group shows `Deleting` meanwhile.
  deleteLro: { style: 'async-operation' },
  validatePut: (body) => {
    const containers = body.properties?.containers;
    if (!Array.isArray(containers) || containers.length === 0)
      return "The container group must have at least one container in 'properties.containers'.";
    if (!body.properties?.osType) return "The parameter 'properties.osType' is required.";
    // The spec marks LogAnalytics.workspaceKey required.
    const logAnalytics = body.properties?.diagnostics?.logAnalytics;
    if (logAnalytics && !present(logAnalytics.workspaceKey))
      return "The parameter 'properties.diagnostics.logAnalytics.workspaceKey' is required.";
    return undefined;
  },
  readView,
  /**
   * How Azure answers a PUT that leaves out a secret the group holds is not documented: the Java SDK
   * issue (#856) reports that re-sending the GET body with a bare secure variable throws, and Terraform
   * says the update "would fail" without the storage key and workspace key. So the emulator refuses it,
   * stricter than a silent wipe: 400 with `InvalidContainerGroupUpdate`, the code ACI uses for updates it
   * will not make (quoted in MicrosoftDocs/azure-docs#31168), naming each field and never a value.
   */
  checkReplace: (stored, input) => {
    const dropped = droppedSecrets(stored, input);
    if (dropped.length > 0) {
      throw new ArmError(
        400,
        'InvalidContainerGroupUpdate',
        `The updates on container group '${stored.name}' are invalid: the request omits write-only values the group holds (${dropped.join(', ')}). Send them again, or remove them.`,
      );
    }
  },
  // Learn (container-instances-update): an update restarts every container of the group.
  putRestarts: true,
  // A group PUT redeploys and restarts every container: minutes (Learn container-instances-update). 2 minutes here.
  realisticWriteMs: 2 * 60_000,
  // 409 ContainerGroupTransitioning, "The container group '<name>' is still transitioning, please retry
  // later." (Learn troubleshooting: azure-container-instances, container-group-transitioning).
  busyConflict: (name) =>
    new ArmError(409, 'ContainerGroupTransitioning', `The container group '${name}' is still transitioning, please retry later.`),
};
