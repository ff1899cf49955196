/** An error answered in ARM's envelope: `{"error":{"code","message"}}`. */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ArmError';
  }

  toBody(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** ARM's answer to an api-version the resource provider does not serve (one wording for every type). */
export function requireApiVersion(req: { apiVersion: string }, supported: readonly string[], typeName: string): void {
  if (!supported.includes(req.apiVersion)) {
    throw new ArmError(
      400,
      'NoRegisteredProviderFound',
      `No registered resource provider found for location 'westeurope' and API version '${req.apiVersion}' for type '${typeName}'. The supported api-versions are '${supported.join(', ')}'.`,
    );
  }
}

export const notFound = (type: string, name: string, resourceGroup?: string): ArmError =>
  new ArmError(
    404,
    'ResourceNotFound',
    `The Resource '${type}/${name}' under resource group '${resourceGroup ?? ''}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
