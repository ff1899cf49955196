import builtinRoles from '../../src/config/builtin-roles.json';
import { actionMatches } from '../../src/config/roles';

export interface Permission {
  actions: string[];
  notActions: string[];
}

export interface RoleDefinitionRecord {
  guid: string;
  roleName: string;
  roleType: 'BuiltInRole' | 'CustomRole';
  description: string;
  permissions: Permission[];
  assignableScopes: string[];
}

/**
 * Control-plane permissions of the built-in roles the emulator enforces, copied from the published
 * definitions (az role definition show). Every other built-in role exists and can be assigned, but
 * grants no control-plane action here (most are data-plane roles).
 */
const MODELED: Record<string, Permission> = {
  // Owner
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': { actions: ['*'], notActions: [] },
  // Contributor
  'b24988ac-6180-42a0-ab88-20f7382dd24c': {
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
      'Microsoft.Blueprint/blueprintAssignments/write',
      'Microsoft.Blueprint/blueprintAssignments/delete',
      'Microsoft.Compute/galleries/share/action',
      'Microsoft.Purview/consents/write',
      'Microsoft.Purview/consents/delete',
      'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
      'Microsoft.Subscription/cancel/action',
      'Microsoft.Subscription/enable/action',
    ],
  },
  // Reader
  'acdd72a7-3385-48ef-bd42-f606fba81ae7': { actions: ['*/read'], notActions: [] },
  // User Access Administrator
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9': { actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'], notActions: [] },
  // Role Based Access Control Administrator
  'f58310d9-a9f6-439a-9e8d-f62e7b41a168': {
    actions: [
      'Microsoft.Authorization/roleAssignments/write',
      'Microsoft.Authorization/roleAssignments/delete',
      '*/read',
      'Microsoft.Support/*',
    ],
    notActions: [],
  },
  // Managed Identity Operator
  'f1a07417-d97a-45cb-824c-7a7467783830': {
    actions: [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Support/*',
    ],
    notActions: [],
  },
  // Managed Identity Contributor
  'e40ec5ca-96e0-45a2-b4ff-59039f2c2b59': {
    actions: [
      'Microsoft.ManagedIdentity/userAssignedIdentities/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/write',
      'Microsoft.ManagedIdentity/userAssignedIdentities/delete',
      'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write',
      'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete',
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Support/*',
    ],
    notActions: [],
  },
};

export const ROLE = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  rbacAdministrator: 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
  managedIdentityOperator: 'f1a07417-d97a-45cb-824c-7a7467783830',
  managedIdentityContributor: 'e40ec5ca-96e0-45a2-b4ff-59039f2c2b59',
} as const;

export function builtinRoleDefinitions(): RoleDefinitionRecord[] {
  return (builtinRoles as Array<{ roleName: string; id: string }>).map((r) => ({
    guid: r.id.toLowerCase(),
    roleName: r.roleName,
    roleType: 'BuiltInRole' as const,
    description: `Built-in role ${r.roleName}`,
    permissions: [MODELED[r.id.toLowerCase()] ?? { actions: [], notActions: [] }],
    assignableScopes: ['/'],
  }));
}

export function permits(definition: RoleDefinitionRecord, action: string): boolean {
  return definition.permissions.some(
    (p) => p.actions.some((a) => actionMatches(a, action)) && !p.notActions.some((n) => actionMatches(n, action)),
  );
}
