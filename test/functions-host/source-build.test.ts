// The `npm run build` output (tsc, the repository's node_modules), as `func start` runs a clone: the same
// suite as the deployed package (app-invocations.ts), and the same registrations.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TRIGGER_RULES } from '../functions/rules.fixture';
import { packagedApp, sourceApp } from './app-builds';
import { AppHost } from './app-host';
import { describeAppInvocations } from './app-invocations';
import type { FunctionMetadata } from './rpc';
import { bindingsOf } from './rpc-requests';

describeAppInvocations('the tsc build', sourceApp);

/** What the host registers from a function's metadata, without the generated binding names. */
function registration(fn: FunctionMetadata) {
  return { name: fn.name, bindings: bindingsOf(fn).map(({ name, ...b }) => ({ ...b, name: name === '$return' ? name : 'trigger' })) };
}

describe('the tsc build and the deployed package', () => {
  it('register exactly the same functions and bindings', async () => {
    // Registration needs only a valid rules file: no handler runs, so nothing reaches ARM.
    const rules = join(mkdtempSync(join(tmpdir(), 'functions-app-')), 'rules.yaml');
    writeFileSync(rules, TRIGGER_RULES);
    const env = { AUTOPILOT_RULES_PATH: rules };
    const [source, packaged] = await Promise.all([
      AppHost.start({ appDir: sourceApp(), env }),
      AppHost.start({ appDir: packagedApp(), env }),
    ]);
    try {
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      assert.deepEqual(source.functions.map(registration).sort(byName), packaged.functions.map(registration).sort(byName));
      assert.ok(source.functions.length >= 7);
    } finally {
      await Promise.all([source.close(), packaged.close()]);
    }
  });
});
