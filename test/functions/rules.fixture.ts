import { SUB_A } from '../support/emulator-fixture';

/** Rules used by the trigger tests: every type governed, roles at the resource group and a tagged vault. */
export const TRIGGER_RULES = `
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  optOutTag: autopilot-optout
  profileTag: autopilot-profiles
profiles:
  rg-reader:
    roles:
      - role: Reader
        scope: /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}
  vault-secrets:
    roles:
      - role: Key Vault Secrets User
        scope: "{tag:kv-id}"
        tagScope:
          resourceTypes: [Microsoft.KeyVault/vaults]
          resourceGroups: ["{resourceGroup}", "rg-shared", "rg-kv"]
  self-monitoring:
    roles:
      - role: Monitoring Metrics Publisher
        scope: "{resourceId}"
rules:
  - name: shared-identity
    match:
      resourceGroups: ["rg-ua-*"]
    identity:
      kind: UserAssigned
      userAssigned:
        name: "id-{resourceName}"
    profiles: [rg-reader]
    workload: { allowRestart: true }
  - name: workloads
    identity:
      kind: SystemAssigned
    profiles: [rg-reader, self-monitoring]
    tagSelectableProfiles: [vault-secrets]
    # Container groups are written by a PUT that restarts them: these rules consent to it.
    workload: { allowRestart: true }
`;

/**
 * A rules file whose one profile, `rg-reader`, grants Reader on the resource's own resource group, in
 * subscription A; `rules` is the YAML list under `rules:`. Tests that are about workload handling, not
 * about what is granted, share it. `scope` replaces the scope's lines (say, management groups instead).
 */
export function rgReaderRules(rules: string, scope = `  subscriptions: ["${SUB_A}"]`): string {
  return `
version: 1
scope:
${scope}
profiles:
  rg-reader:
    roles:
      - role: Reader
        scope: /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}
rules:
${rules.replace(/^\n+/, '')}`;
}

/**
 * Rules for AKS tests: clusters get Reader on their resource group, for the principal `aksPrincipal`
 * names (the kubelet identity by default), with the given identity rule.
 */
export function aksRules(aksPrincipal: 'kubelet' | 'cluster' = 'kubelet', identity = '{ kind: SystemAssigned }'): string {
  return rgReaderRules(`
  - name: aks-${aksPrincipal}
    match: { types: [Microsoft.ContainerService/managedClusters] }
    identity: ${identity}
    profiles: [rg-reader]
    workload: { aksPrincipal: ${aksPrincipal} }
`);
}
