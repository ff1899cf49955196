/**
 * The emulator's seeds held against the official examples of each RP (verbatim copies, see
 * specs/PROVENANCE.md): where a seed and the example share a property path, the JSON types agree;
 * the example's top-level shape is present in the seed; and both pass the RP model check the
 * emulator applies to traffic (so the check itself accepts what Azure documents).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkWithRpModels } from '../../tools/arm-emulator/rp-models';
import { SEED_TYPES, seedResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { SPEC_DIRECTORY } from '../../tools/arm-emulator/spec-validation';
import { EmulatorState } from '../../tools/arm-emulator/state';

const EXAMPLES: Record<keyof typeof SEED_TYPES, { file: string; pick?: (body: any) => any }> = {
  webApp: { file: 'web/resource-manager/Microsoft.Web/stable/2024-04-01/examples/GetWebApp.json' },
  deploymentSlot: { file: 'web/resource-manager/Microsoft.Web/stable/2024-04-01/examples/GetWebAppSlot.json' },
  containerApp: { file: 'app/resource-manager/Microsoft.App/stable/2024-03-01/examples/ContainerApps_Get.json' },
  containerAppJob: { file: 'app/resource-manager/Microsoft.App/stable/2024-03-01/examples/Job_Get.json' },
  virtualMachine: {
    file: 'compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-07-01/examples/virtualMachineExamples/VirtualMachine_Get.json',
  },
  scaleSet: {
    file: 'compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-07-01/examples/virtualMachineScaleSetExamples/VirtualMachineScaleSet_Get_WithUserData.json',
  },
  containerGroup: {
    file: 'containerinstance/resource-manager/Microsoft.ContainerInstance/stable/2023-05-01/examples/ContainerGroupsList.json',
    pick: (b) => b.value[0],
  },
  managedCluster: {
    file: 'containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2024-09-01/examples/ManagedClustersGet.json',
  },
};

/**
 * The models come from the SDKs' api-versions, the examples from older ones. WebApps 2024-11-01 moved
 * these three Site properties under `properties.outboundVnetRouting` (absent from the Site mapper of
 * @azure/arm-appservice 17.0.0 and 18.0.0), so the 2024-04-01 example still has them at the top.
 */
const API_VERSION_DRIFT = new Set(
  ['vnetRouteAllEnabled', 'vnetImagePullEnabled', 'vnetContentShareEnabled'].map((p) => `properties.${p}: not in the spec's Site`),
);

/** Top-level members an RP returns only in some cases (optional in the spec), not required of a seed. */
const OPTIONAL_TOP_LEVEL = new Set(['tags', 'etag', 'eTag', 'zones', 'resources', 'managedBy', 'kind']);

function example(label: keyof typeof SEED_TYPES): any {
  const { file, pick } = EXAMPLES[label];
  const body = JSON.parse(readFileSync(join(SPEC_DIRECTORY, 'specification', file), 'utf8')).responses['200'].body;
  return pick ? pick(body) : body;
}

function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Leaf paths with their JSON types; array elements are compared through their first element. */
function typedPaths(value: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, p: string) => {
    out.set(p, jsonType(v));
    if (Array.isArray(v)) {
      if (v.length > 0) walk(v[0], `${p}[]`);
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) walk(child, p ? `${p}.${k}` : k);
    }
  };
  walk(value, prefix);
  out.delete('');
  return out;
}

describe('emulator seeds agree with the official RP examples', () => {
  for (const [label, type] of Object.entries(SEED_TYPES) as [keyof typeof SEED_TYPES, string][]) {
    it(`${type}: shared property paths have the example's types; the example's top-level shape is present`, (t) => {
      const state = new EmulatorState();
      const ua = seedUserAssignedIdentity(state, {
        subscriptionId: '00000000-0000-4000-8000-000000000001',
        resourceGroup: 'rg',
        name: 'id',
      });
      const id = seedResource(state, {
        subscriptionId: '00000000-0000-4000-8000-000000000001',
        resourceGroup: 'rg',
        type,
        name: `${label.toLowerCase()}-x`,
        identity: { type: 'UserAssigned', userAssignedIdentities: { [ua.id]: {} } },
      });
      const seed = state.resource(id)!.body;
      const official = example(label);
      const seedPaths = typedPaths(seed);
      const examplePaths = typedPaths(official);
      const shared = [...seedPaths.keys()].filter((p) => examplePaths.has(p));
      const mismatched = shared
        .filter((p) => seedPaths.get(p) !== examplePaths.get(p))
        .map((p) => `${p}: seed ${seedPaths.get(p)}, example ${examplePaths.get(p)}`);
      assert.deepEqual(mismatched, []);
      assert.ok(shared.length >= 8, `the seed shares only ${shared.length} property paths with the example`);
      const missingTop = Object.keys(official).filter((k) => !OPTIONAL_TOP_LEVEL.has(k) && !(k in seed));
      assert.deepEqual(missingTop, [], 'top-level members of the example missing from the seed');
      const notInExample = [...seedPaths.keys()].filter((p) => !examplePaths.has(p) && !p.startsWith('identity'));
      if (notInExample.length > 0)
        t.diagnostic(`seed paths the example does not show (checked against the SDK model instead): ${notInExample.join(', ')}`);
    });

    it(`${type}: the official example and the seed both pass the RP model check`, () => {
      const official = example(label);
      const state = new EmulatorState();
      const id = seedResource(state, { subscriptionId: '00000000-0000-4000-8000-000000000001', resourceGroup: 'rg', type, name: 'x' });
      // The seeded id is the path: a child type's (a slot's) path holds its parent too.
      const path = id;
      const problems = checkWithRpModels('GET', path, undefined, 200, official)!.problems.filter((p) => !API_VERSION_DRIFT.has(p.message));
      assert.deepEqual(problems, []);
      assert.deepEqual(checkWithRpModels('GET', path, undefined, 200, state.resource(id)!.body)?.problems, []);
    });
  }
});
