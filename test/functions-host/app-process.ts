// The child process that stands where the Functions Node.js worker runs the app (started by
// app-host.ts): `@azure/functions-core` is provided before the app's entry point loads, so the app's
// @azure/functions (bundled in the package, or the repository's for the tsc build) leaves test mode
// and registers for real. A process of its own, as under the host: its own environment (the app
// settings), its own module cache, and nothing the test process loaded in test mode.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CoreStandIn } from './core-stand-in';
import { invokeFunction } from './invoke-function';
import { provideModule } from './provide-module';
import type { InvocationRequest } from './rpc';

export type ToApp = { kind: 'invoke'; id: number; request: InvocationRequest };

const appDir = process.argv[1]!;
const core = new CoreStandIn();
provideModule('@azure/functions-core', core.api);

function send(message: object): void {
  process.send!(message);
}

/** As the worker does: the app's package.json names the entry point, loaded once at start-up. */
async function loadApp(): Promise<void> {
  const main = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')).main as string;
  // A require of the app's own, not this (tsx-compiled) module's: the app loads as plain Node loads it.
  createRequire(join(appDir, 'package.json'))(join(appDir, main));
  // The worker asks for the capabilities after loading the entry point (this also locks app.setup()).
  const capabilities = (await core.programmingModel?.getCapabilities({})) ?? {};
  const functions = [...core.functions.values()].map((f) => f.metadata);
  const programmingModel = core.programmingModel && { name: core.programmingModel.name, version: core.programmingModel.version };
  send({ kind: 'loaded', programmingModel, functions, hooks: core.hooks, capabilities, systemLogs: core.systemLogs });
}

process.on('message', (message: ToApp) => {
  void invokeFunction(core, message.request).then((invocation) => send({ kind: 'invoked', id: message.id, invocation }));
});
process.on('disconnect', () => process.exit(0));

loadApp().catch((error: unknown) => send({ kind: 'load-failed', message: error instanceof Error ? error.stack : String(error) }));
