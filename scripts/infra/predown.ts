/**
 * azd `predown` hook: removes what `azd down` cannot, since it only deletes the resource group (see
 * teardown.ts for what and why): the app identity's subscription-scope role assignments, the custom
 * roles, event subscriptions and system topics outside the resource group. It reads everything from ARM
 * first, prints the list (and what it leaves alone), asks for confirmation, then deletes in order.
 *
 *   npx tsx scripts/infra/predown.ts [--dry-run] [--yes]
 *
 * - `--dry-run` lists and deletes nothing.
 * - `--yes` (or AUTOPILOT_PREDOWN_YES=true, for CI) skips the confirmation. Without it and without a
 *   terminal to ask on, nothing is deleted and the hook fails, so `azd down` stops before the resource
 *   group goes: nobody agreed.
 * - AUTOPILOT_PREDOWN_SKIP=true skips the hook altogether.
 *
 * Credentials: DefaultAzureCredential (the deployer's `azd auth login` or `az login`). ARM is
 * AUTOPILOT_ARM_ENDPOINT (default public Azure) with AUTOPILOT_ARM_CA_PATH, as for `infra:params`.
 * Exit codes: 0 done (or declined, or nothing to do), 1 a problem (a read or a delete failed, input missing).
 */

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import type { TokenCredential } from '@azure/core-auth';
import type { ServiceClient } from '@azure/core-client';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { DefaultAzureCredential } from '@azure/identity';
import { ArmClientPool, PUBLIC_ARM_ENDPOINT } from '../../src/azure/clients';
import {
  planTeardown,
  subscriptionsToSearch,
  type TeardownContext,
  TeardownInputError,
  type TeardownInventory,
  type TeardownKind,
  type TeardownPlan,
  teardownContextFromEnv,
} from './teardown';

/** api-versions of the calls (stable versions of Microsoft.Authorization and Microsoft.EventGrid). */
const API_VERSION: Record<TeardownKind | 'roleAssignmentList', string> = {
  roleAssignment: '2022-04-01',
  roleAssignmentList: '2022-04-01',
  roleDefinition: '2022-04-01',
  eventSubscription: '2025-02-15',
  systemTopic: '2025-02-15',
};

interface ArmReply {
  status: number;
  body: any;
}

/** The few ARM calls the hook makes, over the SDK pipeline (bearer token, retries, the emulator's CA). */
export class TeardownArm {
  constructor(
    private readonly client: ServiceClient,
    private readonly endpoint: string,
  ) {
    this.endpoint = endpoint.replace(/\/+$/, '');
  }

  async call(method: 'GET' | 'DELETE', pathAndQuery: string): Promise<ArmReply> {
    const url = pathAndQuery.startsWith('https://') ? pathAndQuery : `${this.endpoint}${pathAndQuery}`;
    const response = await this.client.sendRequest(createPipelineRequest({ url, method }));
    let body: any;
    try {
      body = response.bodyAsText ? JSON.parse(response.bodyAsText) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, body };
  }

  /** Every page of a list; throws ArmReadError on a failed page. */
  async list(path: string): Promise<any[]> {
    const items: any[] = [];
    let next: string | undefined = path;
    while (next) {
      const reply = await this.call('GET', next);
      if (reply.status !== 200) throw new ArmReadError(path, reply);
      items.push(...(reply.body?.value ?? []));
      next = reply.body?.nextLink;
    }
    return items;
  }
}

export class ArmReadError extends Error {
  constructor(path: string, reply: ArmReply) {
    super(`GET ${path.split('?')[0]}: ${reply.status} ${reply.body?.error?.code ?? ''} ${reply.body?.error?.message ?? ''}`.trim());
  }
}

/** Reads what planTeardown decides from; a read that fails is a problem, and the rest is still read. */
export async function readInventory(
  arm: TeardownArm,
  context: TeardownContext,
): Promise<{ inventory: TeardownInventory; problems: string[] }> {
  const problems: string[] = [];
  const inventory: TeardownInventory = { roleAssignments: [], roleDefinitions: [], eventSubscriptions: [], systemTopics: [] };
  const attempt = async (work: () => Promise<void>) => {
    try {
      await work();
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  };

  for (const sub of context.governedSubscriptionIds) {
    await attempt(async () => {
      const filter = encodeURIComponent(`principalId eq '${context.appPrincipalId}'`);
      const items = await arm.list(
        `/subscriptions/${sub}/providers/Microsoft.Authorization/roleAssignments?api-version=${API_VERSION.roleAssignmentList}&$filter=${filter}`,
      );
      for (const a of items) {
        inventory.roleAssignments.push({
          id: a.id,
          scope: a.properties?.scope ?? '',
          roleDefinitionId: a.properties?.roleDefinitionId ?? '',
          principalId: a.properties?.principalId ?? '',
        });
      }
    });
  }

  // The deployment's roles, and any role the app holds at a governed subscription's scope (older
  // deployments did not output the role assigner's GUID): planTeardown keeps only the ones named as ours.
  const guids = new Set(context.customRoleGuids);
  const governedScopes = new Set(context.governedSubscriptionIds.map((s) => `/subscriptions/${s}`));
  for (const a of inventory.roleAssignments)
    if (governedScopes.has(a.scope.toLowerCase())) guids.add(a.roleDefinitionId.split('/').pop()!.toLowerCase());
  for (const guid of guids) {
    await attempt(async () => {
      const path = `/subscriptions/${context.governedSubscriptionIds[0]}/providers/Microsoft.Authorization/roleDefinitions/${guid}?api-version=${API_VERSION.roleDefinition}`;
      const reply = await arm.call('GET', path);
      if (reply.status === 404) return;
      if (reply.status !== 200) throw new ArmReadError(path, reply);
      const p = reply.body?.properties ?? {};
      inventory.roleDefinitions.push({
        name: reply.body?.name ?? guid,
        roleName: p.roleName ?? '',
        type: p.type ?? '',
        assignableScopes: p.assignableScopes ?? [],
      });
    });
  }

  for (const sub of subscriptionsToSearch(context)) {
    await attempt(async () => {
      const topics = await arm.list(
        `/subscriptions/${sub}/providers/Microsoft.EventGrid/systemTopics?api-version=${API_VERSION.systemTopic}`,
      );
      for (const topic of topics) {
        inventory.systemTopics.push({ id: topic.id, tags: topic.tags });
        await attempt(async () => {
          const subs = await arm.list(`${topic.id}/eventSubscriptions?api-version=${API_VERSION.eventSubscription}`);
          for (const s of subs)
            inventory.eventSubscriptions.push({ id: s.id, destinationResourceId: s.properties?.destination?.properties?.resourceId });
        });
      }
    });
  }
  return { inventory, problems };
}

/** Deletes the plan's steps in order; an id already gone counts as done. Returns the failures. */
export async function executePlan(arm: TeardownArm, plan: TeardownPlan, log: (line: string) => void): Promise<string[]> {
  const failures: string[] = [];
  for (const step of plan.steps) {
    const reply = await arm.call('DELETE', `${step.id}?api-version=${API_VERSION[step.kind]}`);
    if ([200, 202, 204, 404].includes(reply.status)) {
      log(
        `predown: deleted ${step.what}${reply.status === 202 ? ' (accepted, finishing in Azure)' : reply.status === 204 || reply.status === 404 ? ' (already gone)' : ''}`,
      );
    } else {
      failures.push(`DELETE ${step.id}: ${reply.status} ${reply.body?.error?.code ?? ''} ${reply.body?.error?.message ?? ''}`.trim());
    }
  }
  return failures;
}

export function describePlan(plan: TeardownPlan, problems: string[]): string {
  const lines: string[] = [];
  if (plan.steps.length === 0) lines.push('predown: nothing outside the resource group to remove.');
  else {
    lines.push(`predown: ${plan.steps.length} object(s) outside the resource group will be deleted, in this order:`);
    for (const s of plan.steps) lines.push(`  - ${s.what}\n      ${s.id}`);
  }
  if (plan.kept.length > 0) {
    lines.push('predown: left alone:');
    for (const k of plan.kept) lines.push(`  - ${k.id}: ${k.why}`);
  }
  if (problems.length > 0) {
    lines.push('predown: could not read (those objects, if any, are not in the list):');
    for (const p of problems) lines.push(`  - ${p}`);
  }
  return lines.join('\n');
}

const truthy = (v: string | undefined) => /^(1|true|yes)$/i.test(v?.trim() ?? '');

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv,
  credential: TokenCredential = new DefaultAzureCredential(),
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'dry-run': { type: 'boolean', default: false }, yes: { type: 'boolean', short: 'y', default: false } },
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const err = (line: string) => process.stderr.write(`${line}\n`);
  if (truthy(env.AUTOPILOT_PREDOWN_SKIP)) {
    out(
      'predown: skipped (AUTOPILOT_PREDOWN_SKIP); role assignments, custom roles and event subscriptions outside the resource group stay in place.',
    );
    return 0;
  }
  let context: TeardownContext;
  try {
    context = teardownContextFromEnv(env);
  } catch (e) {
    if (!(e instanceof TeardownInputError)) throw e;
    err(`predown: ${e.message}. Set AUTOPILOT_PREDOWN_SKIP=true to run azd down without this hook.`);
    return 1;
  }
  const endpoint = env.AUTOPILOT_ARM_ENDPOINT?.trim() || PUBLIC_ARM_ENDPOINT;
  const pool = new ArmClientPool({
    endpoint,
    credential,
    ca: env.AUTOPILOT_ARM_CA_PATH?.trim() ? readFileSync(env.AUTOPILOT_ARM_CA_PATH.trim(), 'utf8') : undefined,
  });
  const arm = new TeardownArm(pool.for(context.governedSubscriptionIds[0]!).resources, endpoint);

  const { inventory, problems } = await readInventory(arm, context);
  const plan = planTeardown(context, inventory);
  out(describePlan(plan, problems));
  if (values['dry-run']) return problems.length > 0 ? 1 : 0;
  if (plan.steps.length === 0) return problems.length > 0 ? 1 : 0;

  if (!values.yes && !truthy(env.AUTOPILOT_PREDOWN_YES)) {
    if (!process.stdin.isTTY) {
      err(
        'predown: not confirmed (no terminal to ask on): nothing deleted. Re-run with AUTOPILOT_PREDOWN_YES=true to delete, or AUTOPILOT_PREDOWN_SKIP=true to keep them.',
      );
      return 1;
    }
    if (!(await confirm(`Delete these ${plan.steps.length} object(s)? [y/N] `))) {
      out('predown: nothing deleted; azd down continues with the resource group.');
      return 0;
    }
  }
  const failures = await executePlan(arm, plan, out);
  for (const f of failures) err(`predown: ${f}`);
  return failures.length > 0 || problems.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`predown: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
