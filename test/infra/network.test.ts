/**
 * Private networking (main.bicep vnetEnabled) and the azd parameters, checked on what the template would
 * deploy: `bicep snapshot` evaluates main.bicep for both variants (test/infra/bicep-snapshot.ts), no Azure
 * and no what-if. With vnetEnabled the storage account's public endpoint is off, blob, queue and table each
 * have a private endpoint whose name resolves through a privatelink zone linked to the app's network, and
 * the app joins a subnet delegated to Microsoft.App/environments; without it none of that exists and the
 * account stays public as before.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { sweepSettings } from '../../src/settings/settings';
import { bicepCli, buildMain, type PredictedResource, type Snapshot, snapshotMain } from './bicep-snapshot';

const REPO = join(__dirname, '..', '..');
const BICEP = bicepCli();
if (!BICEP) {
  process.stderr.write('NOTICE: infra network tests skipped: no Bicep CLI (npm run infra:check fetches it where .NET is installed).\n');
}
const SERVICES = ['blob', 'queue', 'table'];

const ofType = (s: Snapshot, type: string) => s.predictedResources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
function one(s: Snapshot, type: string): PredictedResource {
  const found = ofType(s, type);
  assert.equal(found.length, 1, `exactly one ${type}`);
  return found[0]!;
}
const sameId = (a: string | undefined, b: string | undefined) => a?.toLowerCase() === b?.toLowerCase();
const appSettings = (s: Snapshot) => ofType(s, 'Microsoft.Web/sites/config').find((r) => r.name.endsWith('/appsettings'))!.properties!;

// Two evaluations serve every test (each costs seconds): the defaults, and the private variant with the
// other tunables changed too. `bicep snapshot` leaves environment() unevaluated, so the storage DNS suffix
// is given as the public cloud's (its default, environment().suffixes.storage, is checked on the template).
const PUBLIC_CLOUD = { storageDnsSuffix: 'core.windows.net' };
let open: Snapshot;
let closed: Snapshot;
before(() => {
  if (!BICEP) return;
  open = snapshotMain(BICEP, { ...PUBLIC_CLOUD, vnetEnabled: false });
  closed = snapshotMain(BICEP, {
    ...PUBLIC_CLOUD,
    vnetEnabled: true,
    sweepPeriodHours: 12,
    dryRun: true,
    maximumInstanceCount: 5,
    revocationMode: 'report',
  });
});

describe('private networking (main.bicep vnetEnabled)', { skip: BICEP ? false : 'no Bicep CLI' }, () => {
  it('both variants evaluate without diagnostics', () => {
    assert.deepEqual(open.diagnostics, []);
    assert.deepEqual(closed.diagnostics, []);
  });

  it('vnetEnabled: the storage account takes no traffic on its public endpoint', () => {
    const storage = one(closed, 'Microsoft.Storage/storageAccounts').properties!;
    assert.equal(storage.publicNetworkAccess, 'Disabled');
    assert.equal(storage.networkAcls.defaultAction, 'Deny');
    assert.equal(storage.allowSharedKeyAccess, false);
  });

  it('vnetEnabled: blob, queue and table each get a private endpoint in the endpoint subnet', () => {
    const storage = one(closed, 'Microsoft.Storage/storageAccounts');
    const vnet = one(closed, 'Microsoft.Network/virtualNetworks');
    const endpoints = ofType(closed, 'Microsoft.Network/privateEndpoints');
    assert.deepEqual(
      endpoints.map((e) => e.properties!.privateLinkServiceConnections[0].properties.groupIds).sort(),
      SERVICES.map((s) => [s]),
    );
    for (const endpoint of endpoints) {
      const connections = endpoint.properties!.privateLinkServiceConnections;
      assert.equal(connections.length, 1);
      assert.ok(sameId(connections[0].properties.privateLinkServiceId, storage.id), `${endpoint.name} targets the app's storage account`);
      const subnet = vnet.properties!.subnets.find((s: any) => sameId(`${vnet.id}/subnets/${s.name}`, endpoint.properties!.subnet.id));
      assert.ok(subnet, `${endpoint.name} is in a subnet of ${vnet.name}`);
      assert.deepEqual(subnet.properties.delegations ?? [], [], 'private endpoints are not placed in the delegated subnet');
    }
  });

  it('vnetEnabled: each service name resolves through its privatelink zone, linked to the network', () => {
    const vnet = one(closed, 'Microsoft.Network/virtualNetworks');
    const zones = ofType(closed, 'Microsoft.Network/privateDnsZones');
    assert.deepEqual(
      zones.map((z) => z.name).sort(),
      SERVICES.map((s) => `privatelink.${s}.core.windows.net`),
    );
    const links = ofType(closed, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks');
    for (const zone of zones) {
      const link = links.filter((l) => l.name.startsWith(`${zone.name}/`));
      assert.equal(link.length, 1, `${zone.name} has one network link`);
      assert.ok(sameId(link[0]!.properties!.virtualNetwork.id, vnet.id), `${zone.name} is linked to ${vnet.name}`);
      assert.equal(link[0]!.properties!.registrationEnabled, false);
    }
    // The zone group of each endpoint writes its record into the zone of the same service.
    const groups = ofType(closed, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups');
    const endpoints = ofType(closed, 'Microsoft.Network/privateEndpoints');
    assert.equal(groups.length, SERVICES.length);
    for (const endpoint of endpoints) {
      const service = endpoint.properties!.privateLinkServiceConnections[0].properties.groupIds[0];
      const group = groups.find((g) => g.name.startsWith(`${endpoint.name}/`));
      assert.ok(group, `${endpoint.name} has a DNS zone group`);
      const zoneIds = group.properties!.privateDnsZoneConfigs.map((c: any) => c.properties.privateDnsZoneId);
      const zone = zones.find((z) => z.name === `privatelink.${service}.core.windows.net`)!;
      assert.deepEqual(
        zoneIds.map((id: string) => id.toLowerCase()),
        [zone.id.toLowerCase()],
      );
    }
  });

  it('vnetEnabled: the app joins the subnet delegated to Microsoft.App/environments', () => {
    const vnet = one(closed, 'Microsoft.Network/virtualNetworks');
    const site = one(closed, 'Microsoft.Web/sites');
    const subnetId: string = site.properties!.virtualNetworkSubnetId;
    assert.ok(subnetId, 'the site has virtualNetworkSubnetId');
    const subnet = vnet.properties!.subnets.find((s: any) => sameId(`${vnet.id}/subnets/${s.name}`, subnetId));
    assert.ok(subnet, `virtualNetworkSubnetId ${subnetId} is a subnet of ${vnet.name}`);
    assert.deepEqual(
      subnet.properties.delegations.map((d: any) => d.properties.serviceName),
      ['Microsoft.App/environments'],
    );
    // The two subnets are distinct ranges inside the network's address space.
    const prefixes = vnet.properties!.subnets.map((s: any) => s.properties.addressPrefix);
    assert.equal(new Set(prefixes).size, 2);
    assert.deepEqual(vnet.properties!.addressSpace.addressPrefixes, ['10.0.0.0/16']);
    // The host still reaches its storage by identity, at the same service URLs (now resolved privately).
    const settings = appSettings(closed);
    assert.equal(settings.AzureWebJobsStorage__credential, 'managedidentity');
    assert.deepEqual(site.properties!.functionAppConfig.deployment.storage.authentication.type, 'UserAssignedIdentity');
  });

  it('vnetEnabled false: no network, no private endpoint, and the storage account public as before', () => {
    assert.deepEqual(
      open.predictedResources.filter((r) => r.type.toLowerCase().startsWith('microsoft.network/')).map((r) => r.type),
      [],
    );
    const storage = one(open, 'Microsoft.Storage/storageAccounts').properties!;
    assert.equal(storage.publicNetworkAccess, 'Enabled');
    assert.equal(storage.networkAcls.defaultAction, 'Allow');
    assert.equal(one(open, 'Microsoft.Web/sites').properties!.virtualNetworkSubnetId ?? null, null);
  });

  it('the variants differ only in networking: every other resource is the same', () => {
    const key = (r: PredictedResource) => `${r.type.toLowerCase()} ${r.name}`;
    const openKeys = new Set(open.predictedResources.map(key));
    const added = closed.predictedResources.map(key).filter((k) => !openKeys.has(k));
    assert.ok(
      added.every((k) => k.startsWith('microsoft.network/')),
      `only network resources are added: ${added.join(', ')}`,
    );
    assert.equal(
      closed.predictedResources.length - open.predictedResources.length,
      1 + 3 * 4,
      'vnet + 3 x (zone, link, endpoint, zone group)',
    );
  });
});

describe('azd parameters (infra/main.parameters.json)', { skip: BICEP ? false : 'no Bicep CLI' }, () => {
  let template: Record<string, any>;
  before(() => {
    template = buildMain(BICEP!);
  });
  const parametersFile = JSON.parse(readFileSync(join(REPO, 'infra', 'main.parameters.json'), 'utf8')).parameters;

  it('location is an azd location parameter limited to the Flex Consumption regions', () => {
    const location = template.parameters.location;
    assert.deepEqual(location.metadata?.azd, { type: 'location' });
    assert.ok(location.allowedValues.includes('eastus') && location.allowedValues.includes('westeurope'));
    assert.ok(!location.allowedValues.includes('eastus2euap'), 'no canary region');
    assert.deepEqual([...location.allowedValues].sort(), location.allowedValues, 'sorted, so additions are easy to review');
  });

  it('the private DNS zones follow the cloud: the suffix defaults to environment().suffixes.storage', () => {
    assert.equal(template.parameters.storageDnsSuffix.defaultValue, '[environment().suffixes.storage]');
  });

  it('every parameter the file maps is a parameter of main.bicep, and each default fits its type', () => {
    for (const [name, entry] of Object.entries<any>(parametersFile)) {
      const declared = template.parameters[name];
      assert.ok(declared, `${name} is a main.bicep parameter`);
      const fallback = /^\$\{[A-Z0-9_]+=(.*)\}$/.exec(entry.value)?.[1];
      if (fallback === undefined || fallback === '') continue;
      if (declared.allowedValues && declared.type === 'string')
        assert.ok(declared.allowedValues.includes(fallback), `${name}: ${fallback}`);
      if (declared.type === 'bool') assert.match(fallback, /^(true|false)$/, name);
      if (declared.type === 'int') {
        assert.match(fallback, /^\d+$/, name);
        if (declared.allowedValues) assert.ok(declared.allowedValues.includes(Number(fallback)), `${name}: ${fallback} is allowed`);
        if (declared.minValue !== undefined) assert.ok(Number(fallback) >= declared.minValue, name);
        if (declared.maxValue !== undefined) assert.ok(Number(fallback) <= declared.maxValue, name);
      }
    }
  });

  it('the tunables are mapped to azd environment variables', () => {
    const envVar = (name: string) => /^\$\{([A-Z0-9_]+)[=}]/.exec(parametersFile[name]?.value ?? '')?.[1];
    assert.equal(envVar('vnetEnabled'), 'VNET_ENABLED');
    assert.equal(envVar('sweepPeriodHours'), 'AUTOPILOT_SWEEP_PERIOD_HOURS');
    assert.equal(envVar('maximumInstanceCount'), 'AUTOPILOT_MAXIMUM_INSTANCES');
    assert.equal(envVar('dryRun'), 'AUTOPILOT_DRY_RUN');
    assert.equal(envVar('revocationMode'), 'AUTOPILOT_REVOCATION_MODE');
    assert.equal(envVar('vnetAddressPrefix'), 'AUTOPILOT_VNET_ADDRESS_PREFIX');
  });
});

describe('tunables reach the app settings', { skip: BICEP ? false : 'no Bicep CLI' }, () => {
  it('sweepPeriodHours becomes the timer schedule the app accepts; dryRun, revocationMode and maximumInstanceCount arrive', () => {
    assert.equal(appSettings(open).AUTOPILOT_SWEEP_SCHEDULE, '0 0 * * * *');
    assert.equal(appSettings(open).AUTOPILOT_DRY_RUN, 'false');
    assert.equal(appSettings(open).AUTOPILOT_REVOCATION_MODE, 'enforce');
    assert.equal(one(open, 'Microsoft.Web/sites').properties!.functionAppConfig.scaleAndConcurrency.maximumInstanceCount, 2);

    const settings = appSettings(closed);
    assert.equal(settings.AUTOPILOT_SWEEP_SCHEDULE, '0 0 */12 * * *');
    assert.equal(settings.AUTOPILOT_DRY_RUN, 'true');
    assert.equal(settings.AUTOPILOT_REVOCATION_MODE, 'report');
    assert.equal(one(closed, 'Microsoft.Web/sites').properties!.functionAppConfig.scaleAndConcurrency.maximumInstanceCount, 5);
    // The app's own settings parser accepts what the template writes.
    const parsed = sweepSettings({
      AUTOPILOT_SWEEP_SCHEDULE: settings.AUTOPILOT_SWEEP_SCHEDULE,
      AUTOPILOT_REVOCATION_MODE: settings.AUTOPILOT_REVOCATION_MODE,
    });
    assert.equal(parsed.schedule, '0 0 */12 * * *');
    assert.equal(parsed.revocationMode, 'report');
    assert.throws(() => sweepSettings({ AUTOPILOT_REVOCATION_MODE: 'revoke' }), { code: 'InvalidSetting' });
  });
});
