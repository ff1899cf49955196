import { randomUUID } from 'node:crypto';
import { ArmError } from '../arm-error';
import type { EmulatorState, Json } from '../state';
import type { ResourceTypeModel } from './model';

/**
 * The issuer AKS reports once the OIDC issuer is on: `https://{region}.oic.prod-aks.azure.com/{tenant_id}/{uuid}/`,
 * the uuid random per cluster and immutable (Learn: aks/use-oidc-issuer, "Get the OIDC issuer URL").
 */
export function oidcIssuerUrl(state: EmulatorState, location: string): string {
  return `https://${location.toLowerCase().replace(/\s+/g, '')}.oic.prod-aks.azure.com/${state.tenantId}/${randomUUID()}/`;
}

const oidcEnabled = (body: Json | undefined) => body?.properties?.oidcIssuerProfile?.enabled === true;

/**
 * ManagedClusters_UpdateTags takes tags only; identity is written by GET-modify-PUT. AKS accepts one
 * identity kind at a time: no "SystemAssigned, UserAssigned".
 */
export const managedClusters: ResourceTypeModel = {
  type: 'Microsoft.ContainerService/managedClusters',
  // 2022-11-01: `az aks` in azure-cli 2.45 (profiles/_shared.py MGMT_CONTAINERSERVICE); spec
  // Azure/azure-rest-api-specs specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2022-11-01.
  // 2025-10-01: the api-version @azure/arm-containerservice 24.1.0 (test/conformance/typed-sdks.test.ts) sends; a stable version of the RP.
  apiVersions: ['2022-11-01', '2024-05-01', '2024-07-01', '2024-09-01', '2025-01-01', '2025-10-01'],
  patch: 'tags-only',
  identityTypes: ['None', 'SystemAssigned', 'UserAssigned'],
  putLro: 'async-operation',
  patchLro: 'async-operation',
  operationsSegment: 'operations',
  // ManagedClusters_Delete (managedClusters.json 2024-09-01): 202 with a Location header and 204, long-running
  // (the header set of @azure/arm-containerservice's ManagedClustersDeleteHeaders, generated from it, is `location`
  // alone). AKS serves that URL under `operationresults`. The cluster shows `Deleting` meanwhile.
  deleteLro: { style: 'location', segment: 'operationresults' },
  // Learn aks/use-etags; If-Match/If-None-Match header parameters on ManagedClusters_CreateOrUpdate.
  etags: true,
  validatePut: (body) => {
    const pools = body.properties?.agentPoolProfiles;
    if (!Array.isArray(pools) || pools.length === 0) return "The parameter 'properties.agentPoolProfiles' is required.";
    if (!body.properties?.dnsPrefix && !body.properties?.fqdnSubdomain) return "The parameter 'properties.dnsPrefix' is required.";
    // azure-cli refuses this before sending (managed_cluster_decorator.py: "Enabling workload identity
    // requires enabling OIDC issuer (--enable-oidc-issuer)."); the emulator refuses it server-side too (stricter).
    if (body.properties?.securityProfile?.workloadIdentity?.enabled === true && !oidcEnabled(body)) {
      return 'Enabling workload identity requires enabling OIDC issuer (properties.oidcIssuerProfile.enabled).';
    }
    return undefined;
  },
  // Learn (aks/use-oidc-issuer): "After you enable the OIDC issuer on the cluster, disabling it is not supported."
  checkReplace: (stored, input) => {
    if (oidcEnabled(stored) && input.properties?.oidcIssuerProfile?.enabled === false) {
      throw new ArmError(400, 'InvalidParameter', 'Disabling the OIDC issuer is not supported once it is enabled.');
    }
  },
  // `issuerURL` is read-only (ManagedClusterOIDCIssuerProfile): the RP keeps its own value, whatever a PUT sends,
  // sets it when the issuer is first enabled, and AKS never removes it.
  onModelWritten: (state, before, after) => {
    const profile = after.properties?.oidcIssuerProfile;
    const previous = before?.properties?.oidcIssuerProfile?.issuerURL;
    if (!profile && !previous) return;
    const enabled = oidcEnabled(after) || oidcEnabled(before);
    after.properties.oidcIssuerProfile = {
      enabled,
      ...(enabled ? { issuerURL: previous ?? oidcIssuerUrl(state, String(after.location)) } : {}),
    };
  },
  // Cluster updates take minutes ("the update takes a few minutes", Learn aks/use-managed-identity;
  // azure-facts "AKS and ACI updates take minutes"): 6 minutes here, scaled by tests.
  realisticWriteMs: 6 * 60_000,
  // 409 OperationNotAllowed with this text (Azure/azure-workload-identity#417,
  // Azure/terraform-azurerm-avm-ptn-aks-production#25 "Fix 409 OperationNotAllowed", aka.ms/aks-pending-operation).
  busyConflict: (_name, runningState) =>
    new ArmError(
      409,
      'OperationNotAllowed',
      `Operation is not allowed: Another operation (${runningState}) is in progress, please wait for it to finish before starting a new operation. See https://aka.ms/aks-pending-operation for more details`,
    ),
};
