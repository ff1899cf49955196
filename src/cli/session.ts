import { DefaultAzureCredential } from '@azure/identity';
import type { Autopilot } from '../app/composition';
import { createAutopilot } from '../app/composition';
import { createLedger } from '../ledger/create';
import { type LedgerConnection, readSettings } from '../settings/settings';
import type { CliContext } from './context';
import { cliLedger, describeLedger, NO_LEDGER } from './ledger-settings';
import { ensureSignedIn } from './sign-in';

export interface Session {
  app: Autopilot;
  /** Where outcomes go; `memory` means nowhere that outlives the command. */
  ledger: LedgerConnection;
  close(): Promise<void>;
}

export { describeLedger, NO_LEDGER };

/** Real Azure through DefaultAzureCredential (so `az login` works), or the embedded sandbox. */
export async function openSession(ctx: CliContext, env: NodeJS.ProcessEnv = process.env): Promise<Session> {
  const { options } = ctx;
  const { connection: ledger, source } = cliLedger(options, env);
  ctx.console.info(`ledger: ${describeLedger(ledger)}${ledger.kind === 'memory' ? '' : ` (from ${source})`}`);
  if (options.sandbox) {
    // Loaded only here: the emulator (and oav) should not slow down a CLI talking to real Azure.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startSandbox } = require('../sandbox/environment') as typeof import('../sandbox/environment');
    ctx.console.info('starting the sandbox (embedded ARM emulator and demo estate)');
    const store = ledger.kind === 'memory' ? undefined : createLedger(ledger, new DefaultAzureCredential());
    const sandbox = await startSandbox({ rulesPath: options.config, ledger: store });
    return { app: sandbox.app, ledger, close: sandbox.close };
  }
  const settings = readSettings({
    ...env,
    AUTOPILOT_CREDENTIAL: 'default',
    AUTOPILOT_RULES_PATH: options.config ?? env.AUTOPILOT_RULES_PATH ?? 'config/rules.yaml',
  });
  ctx.console.info(`ARM: ${settings.armEndpoint}; rules: ${settings.rulesPath}`);
  // The one the app would build from these settings (AUTOPILOT_CREDENTIAL=default), made here to check it first.
  const clientId = settings.managedIdentityClientId;
  const credential = new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
  // Check the sign-in before anything else (D10): one clear line instead of the chain's dump in an outcome.
  await ensureSignedIn(ctx, credential);
  return { app: createAutopilot({ ...settings, ledger }, { credential }), ledger, close: async () => undefined };
}

/** Says so on stderr when the outcomes of this command go nowhere, instead of implying they are recorded. */
export function warnIfNotRecorded(ctx: CliContext, session: Session): void {
  if (session.ledger.kind === 'memory') ctx.console.warn(`outcomes are not recorded: ${NO_LEDGER}`);
}
