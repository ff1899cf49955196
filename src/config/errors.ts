import { AutopilotError } from '../errors';

/**
 * A rules file that cannot be used. The key path points the administrator at the offending entry,
 * so they never have to decode a schema validator's output.
 */
export class RulesFileError extends AutopilotError {
  constructor(
    readonly source: string,
    /** e.g. `profiles.kv-reader.roles[0].scope`; empty when the problem is the file as a whole. */
    readonly keyPath: string,
    readonly reason: string,
    /** 1-based line in the YAML text, when known. */
    readonly line?: number,
  ) {
    super('InvalidRulesFile', `${source}: ${keyPath || '(top level)'}: ${reason}${line ? ` (line ${line})` : ''}`);
  }
}

export type ScopeTemplateErrorCode = 'ScopeTemplateUnresolved' | 'ScopeOutsideGovernedSubscriptions' | 'TagScopeNotAllowed';

/** A scope template that cannot be turned into a scope the product may grant a role on. */
export class ScopeTemplateError extends AutopilotError {
  constructor(
    override readonly code: ScopeTemplateErrorCode,
    readonly template: string,
    reason: string,
  ) {
    super(code, `scope template '${template}': ${reason}`);
  }
}

/** A user-assigned identity template whose result is not a valid identity name or resource group. */
export class IdentityTemplateError extends AutopilotError {
  constructor(
    override readonly code: 'ScopeTemplateUnresolved' | 'IdentityTemplateInvalid',
    readonly template: string,
    reason: string,
  ) {
    super(code, `identity template '${template}': ${reason}`);
  }
}
