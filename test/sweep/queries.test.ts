import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { governedResourcesQuery, kqlString, roleAssignmentsOfPrincipalsQuery, sampleQueries } from '../../src/sweep/queries';
import { compileKql, kqlSyntaxDiagnostics } from '../../tools/arm-emulator/kql';

describe('Resource Graph queries (src/sweep/queries.ts)', () => {
  for (const [name, query] of Object.entries(sampleQueries())) {
    it(`${name} parses with the real KQL parser, without diagnostics`, () => {
      assert.deepEqual(kqlSyntaxDiagnostics(query), [], query);
      // ...and uses only what the emulator's Resource Graph runs.
      assert.doesNotThrow(() => compileKql(query));
    });
  }

  it('the parser is really checking: a broken query has diagnostics', () => {
    const broken = `${governedResourcesQuery({ resourceTypes: ['Microsoft.Web/sites'], resourceGroups: ['*'] })}\n| where (type =~ 'x'`;
    assert.ok(kqlSyntaxDiagnostics(broken).length > 0);
  });

  it('quotes values from the rules file as KQL literals (no injection)', () => {
    const hostile = "rg') | take 1 //";
    const q = governedResourcesQuery({ resourceTypes: ['Microsoft.Web/sites'], resourceGroups: [hostile] });
    assert.deepEqual(kqlSyntaxDiagnostics(q), []);
    assert.ok(q.includes(kqlString(hostile)));
    assert.equal(compileKql(q).stages.filter((s) => s.kind === 'take').length, 0);
    assert.equal(kqlString("o'brien\\"), "'o\\'brien\\\\'");
  });

  it('filters by the rules scope: types, exact and glob resource groups; role assignments by principal', () => {
    const q = governedResourcesQuery({
      resourceTypes: ['Microsoft.Web/sites', 'Microsoft.App/containerApps'],
      resourceGroups: ['rg-apps', 'team-*', 'x?y*z'],
    });
    assert.match(q, /type in~ \('Microsoft\.Web\/sites', 'Microsoft\.App\/containerApps'\)/);
    assert.match(
      q,
      /resourceGroup in~ \('rg-apps'\) or resourceGroup startswith 'team-' or resourceGroup matches regex '\(\?i\)\^x\.y\.\*z\$'/,
    );
    assert.doesNotMatch(governedResourcesQuery({ resourceTypes: ['Microsoft.Web/sites'], resourceGroups: ['*'] }), /where resourceGroup/);
    assert.match(roleAssignmentsOfPrincipalsQuery(['a', 'b']), /tostring\(properties\.principalId\) in~ \('a', 'b'\)/);
  });
});
