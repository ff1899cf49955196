/**
 * `npm run emulator`: the ARM emulator as a standalone process. Prints where it listens, writes its
 * per-run CA certificate to a file, and seeds one subscription in which the app principal is Owner.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SANDBOX_SUBSCRIPTION, seedDemoEstate } from '../../src/sandbox/estate';
import { cloudRegistrationArgs } from './azure-cli-cloud';
import { ROLE, startArmEmulator } from './index';

const SUBSCRIPTION = process.env.EMULATOR_SUBSCRIPTION_ID ?? '00000000-0000-4000-8000-000000000001';

async function main(): Promise<void> {
  const port = process.env.EMULATOR_PORT ? Number(process.env.EMULATOR_PORT) : 0;
  const emulator = await startArmEmulator({ port, verbose: true });
  emulator.state.addSubscription(SUBSCRIPTION, 'Emulated subscription');
  emulator.state.grant({ principalId: emulator.appPrincipal.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${SUBSCRIPTION}` });
  // `npm run emulator -- --estate`: also the sandbox's demo estate, to explore with `az`.
  const withEstate = process.argv.includes('--estate');
  if (withEstate) {
    seedDemoEstate(emulator);
    emulator.state.grant({
      principalId: emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.owner,
      scope: `/subscriptions/${SANDBOX_SUBSCRIPTION}`,
    });
  }
  const dir = join(process.cwd(), '.emulator');
  mkdirSync(dir, { recursive: true });
  const caPath = join(dir, 'ca.pem');
  writeFileSync(caPath, emulator.ca);
  const mi = emulator.managedIdentityEnvironment;
  // The identity header is a secret of this run: it goes to a file for `source`, not to the console.
  const envPath = join(dir, 'emulator.env');
  writeFileSync(
    envPath,
    [
      `ARM_ENDPOINT=${emulator.url}`,
      `ARM_CA_PATH=${caPath}`,
      `IDENTITY_ENDPOINT=${mi.IDENTITY_ENDPOINT}`,
      `IDENTITY_HEADER=${mi.IDENTITY_HEADER}`,
      // Cloud Shell-style endpoint for `az login --identity` (its URL holds this run's secret).
      `MSI_ENDPOINT=${emulator.legacyManagedIdentityEnvironment.MSI_ENDPOINT}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  process.stdout.write(
    [
      `ARM emulator listening on ${emulator.url}`,
      `  CA certificate:       ${caPath} (trust it per client with tlsOptions.ca, or NODE_EXTRA_CA_CERTS)`,
      `  managed identity:     ${mi.IDENTITY_ENDPOINT} (settings for ManagedIdentityCredential in ${envPath})`,
      `  app principal:        ${emulator.appPrincipal.id} (Owner of /subscriptions/${SUBSCRIPTION}${withEstate ? ` and of the demo estate's /subscriptions/${SANDBOX_SUBSCRIPTION}` : ''})`,
      '',
      'Azure CLI against the emulator (in another shell, from this directory):',
      `  export AZURE_CONFIG_DIR="$PWD/.emulator/az" REQUESTS_CA_BUNDLE="${caPath}"`,
      `  export $(grep ^MSI_ENDPOINT= ${envPath})`,
      ...cloudRegistrationArgs(emulator.url).map((args) => `  az ${args.join(' ')}`),
      '  az login --identity -o none',
      // `az login` makes the first subscription the default: the empty one. Name the one to look at.
      `  az account set --subscription ${withEstate ? SANDBOX_SUBSCRIPTION : SUBSCRIPTION}`,
      '  az group list -o table',
      ...(withEstate
        ? ['  az resource list -g rg-web -o table']
        : ['(the subscription is empty: `npm run emulator -- --estate` adds the demo estate)']),
      '',
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  process.stderr.write(`emulator failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
