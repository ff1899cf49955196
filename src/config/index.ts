/** The rules file: loading and validation, governance decisions, templates and role references. */
export * from './types';
export * from './errors';
export { SUPPORTED_RESOURCE_TYPES, canonicalResourceType, type SupportedResourceType } from '../arm/resource-types';
export { loadRulesFile, parseRulesText, validateRulesText, formatKeyPath, DEFAULT_OPT_OUT_TAG, DEFAULT_PROFILE_TAG, type RulesProblem, type RulesValidation } from './load';
export { evaluateGovernance, selectProfiles, profilesFromTag, globMatches, type SkipReason, type GovernanceDecision, type ProfileSelection } from './matching';
export { resolveScopeTemplate, resolveIdentityTemplate, resolveIdentityResourceGroup, parseTemplate, KNOWN_PLACEHOLDERS, type TemplateContext } from './templates';
export {
  ACCESS_CONTROL_ACTIONS,
  CUSTOM_ROLE_CACHE_TTL_MS,
  isPrivilegedRoleGuid,
  builtinRoleRefusal,
  allBuiltinRoles,
  accessControlActionsAllowed,
  builtinRoleByName,
  builtinRoleById,
  roleDefinitionIdFor,
  roleGuidFromDefinitionId,
  RoleResolver,
  type RoleResolverOptions,
  type RolePermission,
  type BuiltinRole,
  type RoleDefinitionLookup,
  type FoundRoleDefinition,
  grantsAccessControl,
  actionMatches,
  type ResolvedRole,
} from './roles';
export { tagValue } from './tags';
export { tagScopeProblem, consentAdmits } from './tag-scope';
export { templateUsesTag, isGovernedSubscription as isGovernedSubscriptionId } from './templates';
export { hasManagementGroups, withResolvedSubscriptions } from './governed-scope';
