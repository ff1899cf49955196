import { isAutopilotError } from '../../errors';
import type { CliContext, CommandResult } from '../context';
import { EXIT, UsageError } from '../context';
import { openSession } from '../session';

export interface WireEventsFlags {
  functionAppId?: string;
  resourceGroup?: string;
  location?: string;
  deadLetterStorageId?: string;
  deadLetterContainer: string;
}

/**
 * Gives every governed subscription (management groups resolved through ARM) a system topic and the
 * event subscription to the app; idempotent, and one failing subscription does not stop the others.
 * The logic lives in src/app/wire-events.ts; this only gathers its inputs.
 */
export async function wireEventsCommand(
  ctx: CliContext,
  flags: WireEventsFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CommandResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { renderWiring, wireEvents } = require('../../app/wire-events') as typeof import('../../app/wire-events');
  const functionAppId = flags.functionAppId ?? env.AZURE_FUNCTION_APP_ID;
  const topicResourceGroup = flags.resourceGroup ?? env.AZURE_RESOURCE_GROUP;
  const location = flags.location ?? env.AZURE_LOCATION;
  if (!functionAppId || !topicResourceGroup || !location) {
    throw new UsageError(
      'wire-events needs --function-app-id, --resource-group and --location (or AZURE_FUNCTION_APP_ID, AZURE_RESOURCE_GROUP, AZURE_LOCATION from azd)',
    );
  }
  const deadLetterStorageId = flags.deadLetterStorageId ?? env.DEADLETTER_STORAGE_ACCOUNT_ID;
  const session = await openSession(ctx);
  try {
    const app = session.app;
    const results = await wireEvents(app.connection, app.rules, app.governance, {
      functionAppId,
      topicResourceGroup,
      location,
      ...(deadLetterStorageId ? { deadLetter: { storageAccountId: deadLetterStorageId, container: flags.deadLetterContainer } } : {}),
    });
    return {
      value: { subscriptions: results },
      table: () => renderWiring(results),
      exitCode: results.some((r) => r.error) ? EXIT.failed : EXIT.ok,
    };
  } catch (e) {
    if (isAutopilotError(e) && e.code === 'InvalidWiring') throw new UsageError(e.message);
    throw e;
  } finally {
    await session.close();
  }
}
