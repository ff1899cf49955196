import type {
  ClusterWorkloadIdentityChange,
  PlanBlocker,
  PrincipalDescription,
  WorkloadIdentityFacts,
  WorkloadPrincipals,
} from '../../engine/types';
import type { ResourceTypeHandler } from './model';

type Json = Record<string, unknown>;

const asObject = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const asString = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * The kubelet identity: `properties.identityProfile.kubeletidentity` (UserAssignedIdentity: resourceId,
 * clientId, objectId; managedClusters.json 2024-09-01). It is what pods reach through IMDS, not the
 * control-plane identity in `identity` (Learn: aks/use-managed-identity, "kubelet identity").
 */
function kubeletIdentity(body: Json): PrincipalDescription | undefined {
  const kubelet = asObject(asObject(asObject(body.properties)?.identityProfile)?.kubeletidentity);
  const objectId = asString(kubelet?.objectId);
  if (!kubelet || !objectId) return undefined;
  return { role: 'kubelet', objectId, clientId: asString(kubelet.clientId), identityId: asString(kubelet.resourceId) };
}

/**
 * A service-principal cluster: no managed `identity`, and `servicePrincipalProfile.clientId` is a real
 * application id (it reads `msi` only on managed-identity clusters; ManagedClustersGet example and
 * ManagedClusterServicePrincipalProfile in managedClusters.json 2024-09-01).
 */
function isServicePrincipalCluster(body: Json): boolean {
  const identityType = asString(asObject(body.identity)?.type);
  const clientId = asString(asObject(asObject(body.properties)?.servicePrincipalProfile)?.clientId);
  return (!identityType || identityType.toLowerCase() === 'none') && clientId !== undefined && clientId.toLowerCase() !== 'msi';
}

/**
 * `properties.oidcIssuerProfile` (ManagedClusterOIDCIssuerProfile: `enabled`, read-only `issuerURL`)
 * and `properties.securityProfile.workloadIdentity.enabled` (ManagedClusterSecurityProfileWorkloadIdentity;
 * managedClusters.json 2024-09-01, example ManagedClustersCreate_SecurityProfile).
 */
function workloadIdentityFacts(body: Json): WorkloadIdentityFacts {
  const properties = asObject(body.properties);
  const oidc = asObject(properties?.oidcIssuerProfile);
  const wi = asObject(asObject(properties?.securityProfile)?.workloadIdentity);
  return { oidcIssuerEnabled: oidc?.enabled === true, issuerUrl: asString(oidc?.issuerURL), workloadIdentityEnabled: wi?.enabled === true };
}

/**
 * What `az aks update --enable-oidc-issuer --enable-workload-identity` changes in the cluster it read
 * (azure-cli `managed_cluster_decorator.py`: `oidc_issuer_profile.enabled`, then
 * `security_profile.workload_identity.enabled`; the CLI refuses workload identity without the issuer:
 * "Enabling workload identity requires enabling OIDC issuer"). Everything else is sent back as read.
 */
function enableWorkloadIdentityBody(body: Json, change: ClusterWorkloadIdentityChange): Json {
  const properties = { ...(asObject(body.properties) ?? {}) };
  if (change.enableOidcIssuer) properties.oidcIssuerProfile = { ...(asObject(properties.oidcIssuerProfile) ?? {}), enabled: true };
  if (change.enableWorkloadIdentity) {
    const security = asObject(properties.securityProfile) ?? {};
    properties.securityProfile = { ...security, workloadIdentity: { ...(asObject(security.workloadIdentity) ?? {}), enabled: true } };
  }
  return { ...body, properties };
}

/**
 * AKS. What this product writes here, and why:
 * - a managed-identity cluster needs no write at all: the roles go to the principal the rule chooses
 *   (`workload.aksPrincipal`: the kubelet identity by default, or the control-plane identity);
 * - a service-principal cluster is never migrated: moving it to managed identity leaves kubelet on the
 *   service principal until a node-image upgrade and drops ACR attachment, add-on and network grants
 *   (Learn: aks/use-managed-identity, "Update an existing cluster to use managed identity");
 * - the one write it makes: a rule asking for a user-assigned control-plane identity
 *   (`aksPrincipal: cluster`) switches a system-assigned control plane to it, as
 *   `az aks update --enable-managed-identity --assign-identity` does. ManagedClusters_UpdateTags takes
 *   tags only, so that is a GET-modify-PUT (long-running) with `If-Match` on the GET's ETag (Learn:
 *   aks/use-etags; the spec's If-Match header parameter on ManagedClusters_CreateOrUpdate).
 * AKS holds one identity kind at a time: `ManagedClusterIdentity.type` is `SystemAssigned | UserAssigned | None`.
 */
export const managedClusters: ResourceTypeHandler = {
  type: 'Microsoft.ContainerService/managedClusters',
  apiVersion: '2024-09-01',
  identityWrite: 'get-modify-put',
  writeOperation: 'Microsoft.ContainerService/managedClusters/write',
  /** AKS 2024-09-01 `ResourceIdentityType`: "SystemAssigned", "UserAssigned", "None"; no combined kind. */
  identityTypeSpelling: { None: 'None', SystemAssigned: 'SystemAssigned', UserAssigned: 'UserAssigned' },
  note: 'the control-plane identity is written by PUT of the whole cluster (If-Match on its ETag); control-plane components switch to the new identity as their tokens expire (up to hours), and grants the old identity held are not moved (Learn: aks/use-managed-identity)',
  identityCapabilities: { systemAndUserAssigned: false, switchToUserAssigned: true },
  concurrency: 'etag',
  graphProperties: ['identityProfile', 'servicePrincipalProfile', 'oidcIssuerProfile', 'securityProfile'],
  workloadIdentity: workloadIdentityFacts,
  enableWorkloadIdentityBody,
  writeBlockers(body): PlanBlocker[] {
    if (!isServicePrincipalCluster(body)) return [];
    return [
      {
        code: 'ServicePrincipalCluster',
        detail:
          'the cluster runs as a service principal, not a managed identity; migrating it would leave the kubelet (what pods use) on the service principal until a node-image upgrade, and would drop ACR attachment, add-on and network role assignments',
        remedy:
          'migrate deliberately: `az aks update --enable-managed-identity`, then `az aks nodepool upgrade --node-image-only` and redo the ACR, add-on and Network Contributor grants (Learn: aks/use-managed-identity); the next cluster write event is evaluated again',
      },
    ];
  },
  principals(body): WorkloadPrincipals {
    const kubelet = kubeletIdentity(body);
    return { identityBlockRole: 'cluster', others: kubelet ? [kubelet] : [] };
  },
  // Cluster updates take minutes (Learn: aks/use-managed-identity, "the update takes a few minutes").
  busyRetrySeconds: 60,
  // AKS answers a write during another operation with 409 OperationNotAllowed, "Operation is not
  // allowed: Another operation (Updating) is in progress, please wait for it to finish before starting
  // a new operation. See https://aka.ms/aks-pending-operation" (Azure/azure-workload-identity#417,
  // Azure/terraform-azurerm-avm-ptn-aks-production#25), or, in newer API versions, "...because there's
  // an in progress update managed cluster operation..." (Azure/azure-cli-extensions#9855). Other
  // OperationNotAllowed answers (quota, unsupported changes) stay until a person acts: permanent.
  isBusyConflict: (status, code, message) =>
    status === 409 && code === 'OperationNotAllowed' && /another (\w+ )?operation\b.*\bin progress|in progress update/i.test(message),
};
