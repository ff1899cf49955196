import type { IdentityKind } from './model';

/**
 * The RP-specific `ResourceIdentityType`-style enum with a comma and a space in the combined kind, as
 * the Web, Compute and Container Instances specs spell it (Azure/azure-rest-api-specs):
 * - Microsoft.Web 2024-04-01 `ManagedServiceIdentity.type` (CommonDefinitions.json);
 * - Microsoft.Compute 2024-07-01 `ResourceIdentityType` (virtualMachine.json / virtualMachineScaleSet.json);
 * - Microsoft.ContainerInstance 2023-05-01 `ContainerGroupIdentity.type` (containerInstance.json, commit
 *   179aaf82, `"modelAsString": false`).
 */
export const SPACED_IDENTITY_TYPES: Readonly<Record<IdentityKind, string>> = {
  None: 'None',
  SystemAssigned: 'SystemAssigned',
  UserAssigned: 'UserAssigned',
  'SystemAssigned, UserAssigned': 'SystemAssigned, UserAssigned',
};
