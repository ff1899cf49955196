import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coverageLine, pathTemplate } from '../../tools/arm-emulator/spec-validation';

describe('spec coverage report', () => {
  it('names calls by their shape, without names or ids', () => {
    assert.equal(
      pathTemplate('/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Web/sites/app'),
      '/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Web/sites/{}',
    );
    assert.equal(
      pathTemplate(
        '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Web/sites/app/providers/Microsoft.Authorization/roleAssignments/g',
      ),
      '/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Web/sites/{}/providers/Microsoft.Authorization/roleAssignments/{}',
    );
    assert.equal(pathTemplate('/subscriptions'), '/subscriptions');
    assert.equal(pathTemplate('/subscriptions/s1/providers/Microsoft.Compute'), '/subscriptions/{}/providers/Microsoft.Compute');
  });

  it('sums checked and total calls and lists partly checked operations as checked/total', () => {
    const line = coverageLine(
      new Map([
        ['WebApps_Get', { checked: 2, total: 2 }],
        ['GET /subscriptions', { checked: 0, total: 1 }],
      ]),
    );
    assert.equal(line, '2 of 3 ARM calls spec-checked, by operation: GET /subscriptions 0/1, WebApps_Get 2');
  });
});
