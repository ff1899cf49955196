/**
 * Every error the product raises on purpose carries a stable code, so triggers, the HTTP API and the
 * CLI can map it to a response or an exit code without parsing messages.
 */
export class AutopilotError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export function isAutopilotError(value: unknown): value is AutopilotError {
  return value instanceof AutopilotError;
}

/** A string that should be an ARM resource id or scope but is not. */
export class InvalidResourceIdError extends AutopilotError {
  constructor(readonly value: string, reason: string) {
    super('InvalidResourceId', `'${truncate(value)}' is not a valid ARM resource id: ${reason}`);
  }
}

export function truncate(value: string, max = 200): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/**
 * A failed call to Azure, translated from the SDK's RestError by the adapters so the engine can
 * decide without knowing the SDK: `transient` failures are worth another delivery, others are not.
 */
export class ArmCallError extends AutopilotError {
  /** For a 403: the action ARM refused and where (its message names both). */
  readonly permission?: MissingPermission;

  constructor(
    code: string,
    message: string,
    readonly status: number | undefined,
    readonly transient: boolean,
    options?: { cause?: unknown; permission?: MissingPermission },
  ) {
    super(code, message, options);
    this.permission = options?.permission;
  }

  get isNotFound(): boolean {
    return this.status === 404 || this.code === 'ResourceNotFound' || this.code === 'ResourceGroupNotFound';
  }
}

/** What ARM said the caller may not do: `linked` when the refused scope is another resource the body names. */
export interface MissingPermission {
  action: string;
  scope: string;
  linked: boolean;
}

export function isArmCallError(value: unknown, code?: string): value is ArmCallError {
  return value instanceof ArmCallError && (code === undefined || value.code === code);
}

/** The resource being remediated no longer exists (deleted between our read and our write). */
export class ResourceGoneError extends AutopilotError {
  constructor(resourceId: string, cause?: unknown) {
    super('ResourceGone', `${resourceId} no longer exists`, { cause });
  }
}
