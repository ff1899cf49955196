import { type ArmResourceId, sameArmId, tryParseArmId } from './resource-id';

/**
 * Container Apps managed environments, as a rule's `dapr.environments` names them. An environment holds
 * the Dapr components of every app in it, and apps of any resource group may join one, so which
 * environments' components are honoured is the rules' decision, never the app's.
 */
export const MANAGED_ENVIRONMENT_TYPE = 'Microsoft.App/managedEnvironments';

// A bare name: what an ARM path segment can hold, without dots or spaces (ManagedEnvironments names are DNS labels).
const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,259}$/;

const isEnvironmentId = (id: ArmResourceId | undefined): id is ArmResourceId =>
  id !== undefined && id.kind === 'resource' && !id.isChild && id.type?.toLowerCase() === MANAGED_ENVIRONMENT_TYPE.toLowerCase();

/** Why a `dapr.environments` entry is not an environment id nor a bare name, or undefined. */
export function environmentRefProblem(ref: string): string | undefined {
  if (ref.startsWith('/')) {
    return isEnvironmentId(tryParseArmId(ref)) ? undefined : `'${ref}' is not the id of a ${MANAGED_ENVIRONMENT_TYPE} resource`;
  }
  return ENVIRONMENT_NAME.test(ref)
    ? undefined
    : `'${ref}' is neither a ${MANAGED_ENVIRONMENT_TYPE} id nor an environment name (letters, digits, hyphens)`;
}

/**
 * Whether a `dapr.environments` entry names the environment: an id exactly (ARM ids are
 * case-insensitive), a bare name only in the app's own subscription, so a same-named environment
 * elsewhere is never honoured by accident.
 */
export function environmentRefMatches(ref: string, environmentId: string, appSubscriptionId: string): boolean {
  const env = tryParseArmId(environmentId);
  if (!isEnvironmentId(env)) return false;
  if (ref.startsWith('/')) return sameArmId(ref, env.id);
  return env.subscriptionId?.toLowerCase() === appSubscriptionId.toLowerCase() && env.name?.toLowerCase() === ref.toLowerCase();
}

/** Whether two ARM ids lie in the same resource group of the same subscription. */
export function sameResourceGroup(a: string, b: string): boolean {
  const x = tryParseArmId(a);
  const y = tryParseArmId(b);
  return (
    x?.subscriptionId !== undefined &&
    x.resourceGroup !== undefined &&
    x.subscriptionId.toLowerCase() === y?.subscriptionId?.toLowerCase() &&
    x.resourceGroup.toLowerCase() === y.resourceGroup?.toLowerCase()
  );
}
