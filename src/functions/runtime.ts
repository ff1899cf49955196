import { loadRulesFile } from '../config/load';
import type { TriggerName } from './trigger-specs';
import { sharedAutopilot, triggerDefinitions } from './triggers';

/**
 * Everything behind the handlers: the engine, the adapters and the Azure SDKs. index.ts loads this
 * module on the first invocation (the package builds it as a separate bundle), not at start-up.
 */
const handlers = new Map<TriggerName, (...args: never[]) => Promise<unknown>>(
  triggerDefinitions(sharedAutopilot).map((t) => [t.name, t.handler as (...args: never[]) => Promise<unknown>]),
);

export function handlerFor(name: TriggerName): (...args: unknown[]) => Promise<unknown> {
  const handler = handlers.get(name);
  if (!handler) throw new Error(`no handler for function ${name}`);
  return handler as (...args: unknown[]) => Promise<unknown>;
}

/** Full validation of a rules file (schema and semantics); throws RulesFileError with the key path. */
export function checkRulesFile(path: string): void {
  loadRulesFile(path);
}
