import { parseRulesText, type RulesConfig } from '../src/config';

/** The rules every benchmark uses: one system-assigned rule, two grants (resource group and resource). */
export function benchmarkRules(subscriptions: string[], resourceGroups = '*'): RulesConfig {
  return parseRulesText(benchmarkRulesYaml(subscriptions, resourceGroups), 'bench-rules.yaml');
}

/** The same rules as YAML text (for app instances in processes of their own). */
export function benchmarkRulesYaml(subscriptions: string[], resourceGroups = '*'): string {
  return `
version: 1
scope: { subscriptions: ["${subscriptions.join('", "')}"], resourceGroups: ["${resourceGroups}"] }
profiles:
  workload:
    roles:
      - { role: Reader, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }
      - { role: Monitoring Metrics Publisher, scope: "{resourceId}" }
rules:
  - name: all
    identity: { kind: SystemAssigned }
    profiles: [workload]
    # Container groups may restart; Manual-policy scale sets (the seeds') get their instances upgraded, so the
    # bench measures those calls.
    workload: { allowRestart: true, upgradeInstances: true }
`;
}
