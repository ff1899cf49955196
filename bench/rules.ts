import { parseRulesText, type RulesConfig } from '../src/config';

/** The rules every benchmark uses: one system-assigned rule, two grants (resource group and resource). */
export function benchmarkRules(subscriptions: string[], resourceGroups = '*'): RulesConfig {
  return parseRulesText(
    `
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
`,
    'bench-rules.yaml',
  );
}
