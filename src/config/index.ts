/** The rules file: loading and validation, governance decisions, templates and role references. */

export { canonicalResourceType, SUPPORTED_RESOURCE_TYPES, type SupportedResourceType } from '../arm/resource-types';
export * from './errors';
export { hasManagementGroups, withResolvedSubscriptions } from './governed-scope';
export {
  DEFAULT_OPT_OUT_TAG,
  DEFAULT_PROFILE_TAG,
  formatKeyPath,
  loadRulesFile,
  parseRulesText,
  type RulesProblem,
  type RulesValidation,
  validateRulesText,
} from './load';
export {
  evaluateGovernance,
  type GovernanceDecision,
  globMatches,
  type ProfileSelection,
  profilesFromTag,
  type SkipReason,
  selectProfiles,
} from './matching';
export {
  ACCESS_CONTROL_ACTIONS,
  accessControlActionsAllowed,
  actionMatches,
  allBuiltinRoles,
  type BuiltinRole,
  builtinRoleById,
  builtinRoleByName,
  builtinRoleRefusal,
  CUSTOM_ROLE_CACHE_TTL_MS,
  type FoundRoleDefinition,
  grantsAccessControl,
  isPrivilegedRoleGuid,
  type LookupCall,
  type ResolvedRole,
  type RoleDefinitionLookup,
  type RolePermission,
  RoleResolver,
  type RoleResolverOptions,
  roleDefinitionIdFor,
  roleGuidFromDefinitionId,
} from './roles';
export { consentAdmits, tagScopeProblem } from './tag-scope';
export { tagValue } from './tags';
export {
  isGovernedSubscription as isGovernedSubscriptionId,
  KNOWN_PLACEHOLDERS,
  parseTemplate,
  resolveIdentityResourceGroup,
  resolveIdentityTemplate,
  resolveScopeTemplate,
  type TemplateContext,
  templateUsesTag,
} from './templates';
export * from './types';
