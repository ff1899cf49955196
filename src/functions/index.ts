import { app } from '@azure/functions';
import { resolveRulesPath } from '../app/app-root';
import { matchesValidationStamp } from '../config/validation-stamp';
import { readSettings } from '../settings/settings';
import { type TriggerName, triggerSpecs } from './trigger-specs';

// The handlers (engine, adapters, Azure SDKs) load on first invocation, in a bundle of their own, so
// a cold start costs little more than a bare Functions app.
let runtime: typeof import('./runtime') | undefined;
function loadRuntime(): typeof import('./runtime') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  runtime ??= require('./runtime') as typeof import('./runtime');
  return runtime;
}

// Settings and the rules file are checked now: a bad file must stop start-up with its key path and
// reason, not fail the first event. The rules file the package ships was validated when it was
// built (its digest is stamped beside it); any other file is validated here, in full.
const settings = readSettings();
const rulesPath = resolveRulesPath(settings.rulesPath);
if (!matchesValidationStamp(rulesPath)) loadRuntime().checkRulesFile(rulesPath);

function lazy(name: TriggerName) {
  return (...args: unknown[]): Promise<never> => loadRuntime().handlerFor(name)(...args) as Promise<never>;
}

for (const spec of triggerSpecs(settings.sweep)) {
  switch (spec.kind) {
    case 'eventGrid':
      app.eventGrid(spec.name, { handler: lazy(spec.name) });
      break;
    case 'http':
      app.http(spec.name, { methods: spec.methods, route: spec.route, authLevel: spec.authLevel, handler: lazy(spec.name) });
      break;
    case 'timer':
      app.timer(spec.name, { schedule: spec.schedule, handler: lazy(spec.name) });
      break;
    case 'storageQueue':
      app.storageQueue(spec.name, { queueName: spec.queueName, connection: spec.connection, handler: lazy(spec.name) });
      break;
  }
}
