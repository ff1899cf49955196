import { ManagementGroupsAPI } from '@azure/arm-managementgroups';
import type { ManagementGroupPort } from '../engine/ports';
import { armCall } from './arm-call-error';
import { type ArmConnection, armClientOptions } from './clients';

/**
 * Management groups through `@azure/arm-managementgroups` (api-version 2021-04-01, the SDK's own):
 * `GET /providers/Microsoft.Management/managementGroups/{groupId}/descendants` lists every management
 * group and subscription below the group at any depth, paged by `nextLink` (ManagementGroups_GetDescendants
 * in Azure/azure-rest-api-specs `specification/managementgroups`, stable 2021-04-01 and 2023-04-01). The
 * direct-children call (`.../subscriptions`) would miss nested groups. The caller needs
 * `Microsoft.Management/managementGroups/descendants/read` on the group (Management Group Reader).
 */
export class ArmManagementGroupPort implements ManagementGroupPort {
  private readonly client: ManagementGroupsAPI;

  constructor(connection: ArmConnection) {
    this.client = new ManagementGroupsAPI(connection.credential, armClientOptions(connection));
  }

  async subscriptionsUnder(managementGroup: string, signal: AbortSignal): Promise<string[]> {
    return armCall(`GET descendants of management group '${managementGroup}'`, async () => {
      const subscriptions: string[] = [];
      for await (const d of this.client.managementGroups.listDescendants(managementGroup, { abortSignal: signal })) {
        // The spec's example types a subscription `Microsoft.Management/managementGroups/subscriptions`,
        // its model doc `/subscriptions`: the id's form is what both agree on.
        const m = /^\/subscriptions\/([0-9a-f-]{36})$/i.exec(d.id ?? '');
        if (m) subscriptions.push(m[1]!.toLowerCase());
      }
      return subscriptions;
    });
  }
}
