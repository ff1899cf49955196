import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseArmId } from '../../src/arm/resource-id';
import { evaluateGovernance, parseRulesText, validateRulesText } from '../../src/config';
import { assertRejected, baseRules, load, SUB } from './helpers';

const BEFORE = new Date('2026-06-01T00:00:00Z');
const EXPIRY = '2026-09-30T00:00:00Z';
const AFTER = new Date('2026-09-30T00:00:00Z'); // the instant itself: expired (Azure: valid until expiresOn)
const SITE_ID = `/subscriptions/${SUB}/resourceGroups/app-web/providers/Microsoft.Web/sites/web1`;
const PROD = { env: 'prod' };

function withExemptions(exemptions: unknown[], tweak: (data: any) => void = () => {}) {
  const data = baseRules();
  data.exemptions = exemptions;
  tweak(data);
  return data;
}

const waiver = (target: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  ...target,
  reason: 'legacy app moves to managed identity in Q3 (CHG-1234)',
  category: 'waiver',
  expiresOn: EXPIRY,
  ...extra,
});

describe('exemptions: governance', () => {
  const site = parseArmId(SITE_ID);

  for (const [what, target] of [
    ['its resource id (any case)', { resourceId: SITE_ID.toUpperCase() }],
    ['a resource group glob', { resourceGroup: 'APP-*' }],
    ['a name glob', { name: 'web?' }],
  ] as const) {
    it(`exempts a resource by ${what}, naming reason, category and expiry, until expiresOn`, () => {
      const config = load(withExemptions([waiver(target)]));
      const before = evaluateGovernance(config, site, PROD, BEFORE);
      assert.equal(before.governed, false);
      assert.equal(!before.governed && before.reason, 'exempted');
      assert.equal(
        !before.governed && before.detail,
        'exemptions[0] (waiver, expires 2026-09-30T00:00:00Z): legacy app moves to managed identity in Q3 (CHG-1234)',
      );
      assert.equal(evaluateGovernance(config, site, PROD, AFTER).governed, true, 'expired: governed again');
    });
  }

  it('covers the children of an exempted resource (a slot of an exempted site), as Azure exemptions cover the hierarchy below', () => {
    const config = load(
      withExemptions([waiver({ resourceId: SITE_ID })], (d) => {
        d.rules[0].match.types.push('Microsoft.Web/sites/slots');
      }),
    );
    const slot = parseArmId(`${SITE_ID}/slots/staging`);
    assert.equal(evaluateGovernance(config, slot, PROD, BEFORE).governed, false);
    const other = parseArmId(SITE_ID.replace('web1', 'web10'));
    assert.equal(evaluateGovernance(config, other, PROD, BEFORE).governed, true, 'a prefix of the name is not a parent');
  });

  it('applies only under the rules it names', () => {
    const config = load(
      withExemptions([waiver({ resourceGroup: 'app-*' }, { rules: ['other-rule'] })], (d) => {
        d.rules.push({ name: 'other-rule', match: { tags: { team: '*' } }, identity: { kind: 'SystemAssigned' } });
      }),
    );
    assert.equal(evaluateGovernance(config, site, PROD, BEFORE).governed, true, 'web-apps is not named');
    const other = evaluateGovernance(config, site, { team: 'x' }, BEFORE);
    assert.equal(!other.governed && other.reason, 'exempted');
  });

  it('a mitigated entry may have no expiry; reason text is shown with control characters escaped', () => {
    const config = load(
      withExemptions([{ name: 'web1', category: 'mitigated', reason: 'uses workload identity\u001b[31m via the platform team' }]),
    );
    const decision = evaluateGovernance(config, site, PROD, new Date('2099-01-01T00:00:00Z'));
    assert.equal(
      !decision.governed && decision.detail,
      'exemptions[0] (mitigated, no expiry): uses workload identity\\u{1b}[31m via the platform team',
    );
  });

  it('the first entry in force wins; an expired one is passed over', () => {
    const config = load(
      withExemptions([
        waiver({ name: 'web1' }, { expiresOn: '2020-01-01T00:00:00Z', reason: 'old' }),
        waiver({ name: 'web*' }, { reason: 'new' }),
      ]),
    );
    const decision = evaluateGovernance(config, site, PROD, BEFORE);
    assert.match(!decision.governed ? decision.detail : '', /^exemptions\[1\] .*: new$/);
  });
});

describe('exemptions: the opt-out tag can be turned off', () => {
  const site = parseArmId(SITE_ID);
  const tagged = { ...PROD, 'identity-autopilot-optout': 'yes' };

  it('scope.allowOptOut: false ignores the tag; an exemption still applies', () => {
    assert.equal(evaluateGovernance(load(baseRules()), site, tagged, BEFORE).governed, false, 'default: the tag opts out');
    const off = load(withExemptions([], (d) => (d.scope.allowOptOut = false)));
    assert.equal(evaluateGovernance(off, site, tagged, BEFORE).governed, true);
    const exempted = load(withExemptions([waiver({ name: 'web1' })], (d) => (d.scope.allowOptOut = false)));
    const decision = evaluateGovernance(exempted, site, tagged, BEFORE);
    assert.equal(!decision.governed && decision.reason, 'exempted');
  });

  it('scope.allowOptOut must be a boolean', () => {
    assertRejected(() => load(withExemptions([], (d) => (d.scope.allowOptOut = 'no'))), 'scope.allowOptOut', /must be true or false/);
  });
});

describe('exemptions: loading', () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    [
      'no target',
      { reason: 'r', category: 'waiver', expiresOn: EXPIRY },
      'exemptions[0]',
      /exactly one of 'resourceId'.*'resourceGroup'.*'name'/,
    ],
    ['two targets', waiver({ name: 'a', resourceGroup: 'b' }), 'exemptions[0]', /not resourceGroup and name/],
    [
      'a resource group id as resourceId',
      waiver({ resourceId: `/subscriptions/${SUB}/resourceGroups/app-web` }),
      'exemptions[0].resourceId',
      /is not a resource id/,
    ],
    ['no reason', { name: 'a', category: 'waiver', expiresOn: EXPIRY }, 'exemptions[0].reason', /is required/],
    ['a blank reason', waiver({ name: 'a' }, { reason: '  ' }), 'exemptions[0].reason', /must say why/],
    ['no category', { name: 'a', reason: 'r', expiresOn: EXPIRY }, 'exemptions[0].category', /is required/],
    ['an Azure-only category', waiver({ name: 'a' }, { category: 'exempt' }), 'exemptions[0].category', /must be one of waiver, mitigated/],
    ['a waiver with no expiry', { name: 'a', reason: 'r', category: 'waiver' }, 'exemptions[0].expiresOn', /is required for a waiver/],
    ['a bare date', waiver({ name: 'a' }, { expiresOn: '2026-09-30' }), 'exemptions[0].expiresOn', /date and time with its zone/],
    [
      'a date that does not exist',
      waiver({ name: 'a' }, { expiresOn: '2026-02-30T00:00:00Z' }),
      'exemptions[0].expiresOn',
      /not a real date/,
    ],
    ['an unknown rule', waiver({ name: 'a' }, { rules: ['nope'] }), 'exemptions[0].rules[0]', /rule 'nope' is not defined/],
    ['an unknown key', waiver({ name: 'a' }, { scope: 'x' }), 'exemptions[0]', /unknown key 'scope'/],
    ['a name glob with a slash', waiver({ name: 'a/b' }), 'exemptions[0].name', /resource name or glob/],
  ];
  for (const [what, entry, keyPath, reason] of cases) {
    it(`refuses ${what} (InvalidRulesFile at ${keyPath})`, () => {
      assertRejected(() => load(withExemptions([entry])), keyPath, reason);
    });
  }

  it('takes an unquoted YAML timestamp and an offset, as the instant they name', () => {
    const text = `${stringify(baseRules())}exemptions:\n  - name: web1\n    reason: r\n    category: waiver\n    expiresOn: 2026-09-30T02:00:00+02:00\n`;
    const config = parseRulesText(text, 'rules.yaml');
    assert.equal(config.exemptions?.[0]?.expiresOn?.toISOString(), '2026-09-30T00:00:00.000Z');
  });

  it('validate warns about expired entries only, with the line', () => {
    const text = stringify(withExemptions([waiver({ name: 'a' }, { expiresOn: '2020-01-01T00:00:00Z' }), waiver({ name: 'b' })]));
    const result = validateRulesText(text, 'rules.yaml', BEFORE);
    assert.deepEqual(result.problems, []);
    assert.equal(result.warnings.length, 1);
    assert.equal(result.warnings[0]!.keyPath, 'exemptions[0].expiresOn');
    assert.match(result.warnings[0]!.reason, /^expired on 2020-01-01T00:00:00Z: it no longer applies/);
    assert.ok(result.warnings[0]!.line! > 1);
    assert.equal(validateRulesText(text, 'rules.yaml', new Date('2019-01-01T00:00:00Z')).warnings.length, 0);
  });
});
