import { createHash } from 'node:crypto';
import { parseArmId } from '../arm/resource-id';
import { type Rule, resolveIdentityResourceGroup, type WorkloadIdentityOptions } from '../config';
import { AutopilotError, isArmCallError } from '../errors';
import type { ApplySettings } from './apply';
import type { CallBudget } from './call-budget';
import { type FederatedCredentialContext, reconcileCredential } from './grants/federated-credentials';
import type { AssessedRoleAssignment } from './grants/role-assignments';
import type { EnginePorts, UserAssignedIdentity } from './ports';
import { withBackoff } from './retry';
import {
  type ActionRecord,
  CLIENT_ID_ANNOTATION,
  type ClusterWorkloadIdentityChange,
  type FederatedCredentialPlan,
  type PlanBlocker,
  type ResourceState,
  TOKEN_EXCHANGE_AUDIENCE,
  type WorkloadIdentityFacts,
  type WorkloadIdentityPlan,
  type WorkloadIdentityResult,
} from './types';

/**
 * AKS workload identity (Learn: aks/workload-identity-overview, aks/workload-identity-deploy-cluster):
 * a pod whose service account is annotated `azure.workload.identity/client-id: <clientId>` gets a
 * projected token that Entra exchanges for the identity's token, if the identity has a federated
 * credential with the cluster's OIDC issuer and the subject `system:serviceaccount:<ns>:<name>`.
 *
 * Everything here is pure except `assess` (reads) and `apply` (writes) below. Names are derived from
 * the cluster id, which a cluster creator chooses: they are hashed and reduced to valid characters, so
 * no name a creator picks can make two clusters (or two service accounts) share an identity.
 */

/** Learn (federated credential configuration): issuer and subject are at most 600 characters. */
const MAX_ISSUER_LENGTH = 600;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Lower-case letters, digits and single '-', at most `max` characters, never empty. */
function slug(text: string, max: number): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return s || 'x';
}

/**
 * The identity of one service account of one cluster: `wi-<cluster>-<ns>-<sa>-<hash>`, at most 109
 * characters of `[a-z0-9-]` (identity names: 3-128 letters, digits, '-' or '_', starting with a letter
 * or digit). The hash covers the whole cluster id and the service account, so clusters of the same
 * name in other groups, and names that reduce to the same slug, still get identities of their own.
 */
export function workloadIdentityName(clusterId: string, namespace: string, name: string): string {
  const hash = sha256(`${clusterId.toLowerCase()}\n${namespace}/${name}`).slice(0, 12);
  return `wi-${slug(parseName(clusterId), 40)}-${slug(namespace, 20)}-${slug(name, 30)}-${hash}`;
}

/**
 * The federated credential of a cluster on an identity: `aks-<cluster>-<hash>`, at most 81 characters,
 * matching the spec's `^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$` (ManagedIdentity.json 2024-11-30).
 */
export function federatedCredentialName(clusterId: string): string {
  return `aks-${slug(parseName(clusterId), 60)}-${sha256(clusterId.toLowerCase()).slice(0, 16)}`;
}

function parseName(resourceId: string): string {
  return resourceId.split('/').filter(Boolean).pop() ?? '';
}

export const serviceAccountSubject = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;

/**
 * Why the issuer a cluster reports cannot be trusted as one, or undefined. AKS sets it (read-only in the
 * spec), but it is still data from a resource: https, an absolute URL without credentials, query or
 * fragment, no whitespace (Learn: a leading or trailing space blocks the exchange), at most 600 characters.
 */
export function issuerProblem(issuer: string): string | undefined {
  if (issuer.length > MAX_ISSUER_LENGTH) return `it is longer than ${MAX_ISSUER_LENGTH} characters`;
  if (/\s/.test(issuer)) return 'it contains whitespace';
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return 'it is not a URL';
  }
  if (url.protocol !== 'https:') return 'it is not an https URL';
  if (url.username || url.password || url.search || url.hash) return 'it carries credentials, a query or a fragment';
  return undefined;
}

/** What the planner decides for a rule with `workloadIdentity` on a cluster. */
export interface WorkloadIdentityDecision {
  workloadIdentities: WorkloadIdentityPlan[];
  clusterChange?: ClusterWorkloadIdentityChange;
  blockers: PlanBlocker[];
  notes: string[];
}

/** One service account's user-assigned identity and federated credential, bound to this cluster. */
function serviceAccountPlan(
  resource: ResourceState,
  rule: Rule,
  { namespace, name }: { namespace: string; name: string },
  where: { resourceGroup: string; issuer: string | undefined; credentialName: string },
): WorkloadIdentityPlan {
  const { resourceGroup, issuer, credentialName } = where;
  const identityName = workloadIdentityName(resource.id, namespace, name);
  const subject = serviceAccountSubject(namespace, name);
  const credential: FederatedCredentialPlan = {
    name: credentialName,
    ...(issuer ? { issuer } : {}),
    subject,
    audiences: [TOKEN_EXCHANGE_AUDIENCE],
  };
  return {
    serviceAccount: `${namespace}/${name}`,
    subject,
    identity: {
      action: 'ensure',
      id: `/subscriptions/${resource.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${identityName}`,
      subscriptionId: resource.subscriptionId,
      resourceGroup,
      name: identityName,
      location: resource.location,
      rule: rule.name,
      // Bound to this cluster and this service account: reused by nothing else.
      owner: `${resource.id}#serviceaccount:${namespace}/${name}`,
    },
    credential,
  };
}

/** Pure: the service accounts' identities and credentials, and what the cluster lacks. */
export function planWorkloadIdentities(resource: ResourceState, rule: Rule, options: WorkloadIdentityOptions): WorkloadIdentityDecision {
  const facts = resource.workloadIdentity ?? { oidcIssuerEnabled: false, workloadIdentityEnabled: false };
  const resourceGroup = resolveIdentityResourceGroup(options.resourceGroupTemplate, {
    resourceId: parseArmId(resource.id),
    tags: resource.tags,
  });
  const issuer = facts.oidcIssuerEnabled ? facts.issuerUrl : undefined;
  const credentialName = federatedCredentialName(resource.id);
  const workloadIdentities = options.serviceAccounts.map((sa) =>
    serviceAccountPlan(resource, rule, sa, { resourceGroup, issuer, credentialName }),
  );
  const notes = [
    `roles go to one user-assigned identity per service account (workload identity); the cluster's own identities are not changed`,
  ];
  const missing = [
    ...(facts.oidcIssuerEnabled ? [] : ['the OIDC issuer']),
    ...(facts.workloadIdentityEnabled ? [] : ['workload identity']),
  ];
  if (missing.length > 0) {
    const command = `az aks update --resource-group ${resource.resourceGroup} --name ${resource.name} --enable-oidc-issuer --enable-workload-identity`;
    if (!options.enableOnCluster) {
      return {
        workloadIdentities,
        notes,
        blockers: [
          {
            code: 'WorkloadIdentityNotEnabled',
            detail: `the cluster does not have ${missing.join(' or ')} enabled, so a federated credential cannot work for its pods`,
            remedy: `${command} (enabling the issuer restarts the API server and cannot be undone; Learn: aks/use-oidc-issuer), or set workloadIdentity.enableOnCluster: true in rule '${rule.name}'`,
          },
        ],
      };
    }
    return {
      workloadIdentities,
      notes: [...notes, 'enabling the OIDC issuer restarts the API server and cannot be disabled afterwards (Learn: aks/use-oidc-issuer)'],
      clusterChange: {
        action: 'enable-workload-identity',
        enableOidcIssuer: !facts.oidcIssuerEnabled,
        enableWorkloadIdentity: !facts.workloadIdentityEnabled,
        reason: `enable ${missing.join(' and ')} (what \`${command}\` does), as rule '${rule.name}' allows`,
      },
      // The cluster is written: whatever forbids a cluster write (a service-principal cluster) blocks it.
      blockers: resource.blockers.filter((b) => !b.waivedBy || !rule.workload[b.waivedBy]),
    };
  }
  if (!issuer) {
    return {
      workloadIdentities,
      notes,
      blockers: [
        {
          code: 'OidcIssuerUrlMissing',
          detail: 'the OIDC issuer is enabled but the cluster reports no issuer URL yet',
          remedy: 'the next write event of the cluster is evaluated again, or run the remediation again once the cluster is Succeeded',
        },
      ],
    };
  }
  const problem = issuerProblem(issuer);
  if (problem)
    return {
      workloadIdentities,
      notes,
      blockers: [{ code: 'OidcIssuerUrlInvalid', detail: `the cluster's issuer URL is refused: ${problem}` }],
    };
  return { workloadIdentities, notes, blockers: [] };
}

/** The result line for one service account. */
function resultFor(
  wi: WorkloadIdentityPlan,
  ua: UserAssignedIdentity | undefined,
  credential: { name: string; issuer?: string; status: WorkloadIdentityResult['credential']['status'] },
  roles: AssessedRoleAssignment[],
): WorkloadIdentityResult {
  return {
    serviceAccount: wi.serviceAccount,
    identityId: ua?.id ?? wi.identity.id,
    ...(ua ? { clientId: ua.clientId, principalId: ua.principalId, annotation: `${CLIENT_ID_ANNOTATION}: ${ua.clientId}` } : {}),
    credential: {
      name: credential.name,
      ...(credential.issuer ? { issuer: credential.issuer } : {}),
      subject: wi.subject,
      status: credential.status,
    },
    roles: roles.map((r) => `${r.roleDisplayName} @ ${r.scope}`),
  };
}

function credentialContext(
  clusterId: string,
  wi: WorkloadIdentityPlan,
  ua: UserAssignedIdentity,
  issuer: string,
): FederatedCredentialContext {
  return {
    identityId: ua.id,
    principalId: ua.principalId,
    clusterId,
    serviceAccount: wi.serviceAccount,
    wanted: { ...wi.credential, issuer },
  };
}

/** Which of the rule's roles the principal holds (undefined: an identity still to be created, holding none). */
type Presence = (principalId: string | undefined) => Promise<AssessedRoleAssignment[]>;
/** Grants the missing roles to the principal; what is held afterwards, and what failed. */
type Grant = (principalId: string, principalIsNew: boolean) => Promise<{ assessed: AssessedRoleAssignment[]; failures: unknown[] }>;

/**
 * Read-only (plan mode, report rules, dry runs): what each service account has and lacks. An identity
 * that exists but is not ours is refused (IdentityNotOwned), as applying would refuse it.
 */
export async function assessWorkloadIdentities(
  clusterId: string,
  plans: readonly WorkloadIdentityPlan[],
  ports: EnginePorts,
  budget: CallBudget,
  present: Presence,
): Promise<{ results: WorkloadIdentityResult[]; complete: boolean }> {
  const results: WorkloadIdentityResult[] = [];
  let complete = true;
  for (const wi of plans) {
    const ua = await ports.userAssignedIdentities.find(wi.identity, budget);
    const issuer = wi.credential.issuer;
    let status: WorkloadIdentityResult['credential']['status'] = 'missing';
    let name = wi.credential.name;
    if (ua && issuer) {
      const { heldAs } = await reconcileCredential(ports, credentialContext(clusterId, wi, ua, issuer), budget);
      if (heldAs) [status, name] = ['exists', heldAs];
    }
    const roles = await present(ua?.principalId);
    if (!ua || status !== 'exists' || roles.some((r) => !r.present)) complete = false;
    results.push(resultFor(wi, ua, { name, issuer, status }, roles));
  }
  return { results, complete };
}

/**
 * Applies the service accounts' identities one after another: ensure the identity (ownership rules of
 * the user-assigned identity port), its federated credential (re-listed on every attempt; Azure does
 * not support concurrent credential writes on one identity and answers 409), then the roles.
 */
export async function applyWorkloadIdentities(
  clusterId: string,
  plans: readonly WorkloadIdentityPlan[],
  facts: WorkloadIdentityFacts,
  ports: EnginePorts,
  settings: ApplySettings,
  budget: CallBudget,
  actions: ActionRecord[],
  grant: Grant,
): Promise<{ results: WorkloadIdentityResult[]; failures: unknown[] }> {
  const issuer = facts.oidcIssuerEnabled ? facts.issuerUrl : undefined;
  const problem = issuer ? issuerProblem(issuer) : 'the cluster reports no OIDC issuer URL';
  if (!issuer || problem) throw new AutopilotError('OidcIssuerUrlInvalid', `no federated credential is written: ${problem}`);
  const results: WorkloadIdentityResult[] = [];
  const failures: unknown[] = [];
  for (const wi of plans) {
    const ua = await ports.userAssignedIdentities.ensure(wi.identity, budget);
    actions.push({
      kind: ua.created ? 'user-assigned-identity-created' : 'user-assigned-identity-reused',
      identityId: ua.id,
      principalId: ua.principalId,
    });
    const context = credentialContext(clusterId, wi, ua, issuer);
    const credential = await withBackoff(
      `federated credential ${wi.credential.name} on ${ua.id}`,
      async () => {
        const { write, heldAs } = await reconcileCredential(ports, context, budget);
        if (!write) return { name: heldAs!, status: 'exists' as const };
        const written = await ports.federatedCredentials.put(ua.id, context.wanted, budget);
        return { name: context.wanted.name, status: write.replaces || written === 'updated' ? ('updated' as const) : ('created' as const) };
      },
      (e) => isArmCallError(e) && e.status === 409 && e.transient,
      settings.conflictBackoff,
      budget,
      (e, n, d) => settings.onRetry?.('federated credential', e, n, d),
    );
    actions.push({
      kind: `federated-credential-${credential.status}`,
      identityId: ua.id,
      name: credential.name,
      issuer,
      subject: wi.subject,
    });
    const granted = await grant(ua.principalId, ua.created);
    results.push(
      resultFor(
        wi,
        ua,
        { ...credential, issuer },
        granted.assessed.filter((r) => r.present),
      ),
    );
    failures.push(...granted.failures);
  }
  return { results, failures };
}
