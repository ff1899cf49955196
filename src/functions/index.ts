import { app } from '@azure/functions';
import { sharedAutopilot, triggerDefinitions } from './triggers';

// Load settings and the rules file now: a bad file must stop start-up with its key path and reason,
// not fail the first event.
sharedAutopilot();

for (const trigger of triggerDefinitions()) {
  switch (trigger.kind) {
    case 'eventGrid':
      app.eventGrid(trigger.name, { handler: trigger.handler as never });
      break;
    case 'http':
      app.http(trigger.name, { methods: trigger.methods, route: trigger.route, authLevel: trigger.authLevel, handler: trigger.handler });
      break;
    case 'timer':
      app.timer(trigger.name, { schedule: trigger.schedule, handler: trigger.handler });
      break;
    case 'storageQueue':
      app.storageQueue(trigger.name, { queueName: trigger.queueName, connection: trigger.connection, handler: trigger.handler });
      break;
  }
}
