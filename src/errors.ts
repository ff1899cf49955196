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

export function isAutopilotError(value: unknown, code?: string): value is AutopilotError {
  return value instanceof AutopilotError && (code === undefined || value.code === code);
}

/** A string that should be an ARM resource id or scope but is not. */
export class InvalidResourceIdError extends AutopilotError {
  constructor(
    readonly value: string,
    reason: string,
  ) {
    super('InvalidResourceId', `'${printable(truncate(value))}' is not a valid ARM resource id: ${reason}`);
  }
}

export function truncate(value: string, max = 200): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/**
 * Untrusted text quoted in an error message: control characters (ANSI escapes included) and
 * invisible format characters are shown as `\u{1b}` escapes, so a message printed on a terminal or in
 * a log viewer shows what was sent instead of acting on it.
 */
export function printable(value: string): string {
  return value.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
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
