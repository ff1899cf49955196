import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SUPPORTED_RESOURCE_TYPES } from '../../src/arm/resource-types';
import { RESOURCE_TYPE_HANDLERS } from '../../src/azure/resource-types';
import { triggerDefinitions } from '../../src/functions/triggers';

describe('trigger table', () => {
  it('declares the Event Grid trigger the event subscription targets', () => {
    const table = triggerDefinitions(() => {
      throw new Error('not built while listing');
    });
    const names = table.map((t) => t.name);
    assert.equal(new Set(names).size, names.length, 'names are unique');
    assert.deepEqual(
      table.filter((t) => t.kind === 'eventGrid').map((t) => t.name),
      ['resourceWriteSuccess'],
    );
    assert.deepEqual(
      table.flatMap((t) => (t.kind === 'http' ? [`${t.methods.join(',')} ${t.route} ${t.authLevel}`] : [])),
      [
        'POST remediations function',
        'GET remediations/{requestId} function',
        'GET resources/{resourceId}/remediations function',
        'GET openapi.json anonymous',
      ],
    );
    // infra/event-subscription.bicep delivers to this function name.
    const bicep =
      readFileSync(join(__dirname, '..', '..', 'infra', 'app', 'event-subscription.bicep'), 'utf8') +
      readFileSync(join(__dirname, '..', '..', 'infra', 'event-subscription.bicep'), 'utf8');
    assert.match(bicep, /resourceWriteSuccess/);
  });

  it('the event subscription filter covers the write operation of every supported type', () => {
    const ops = Object.values(RESOURCE_TYPE_HANDLERS).map((h) => h.writeOperation);
    assert.equal(ops.length, SUPPORTED_RESOURCE_TYPES.length);
    // Child types (deployment slots) have one more type segment: Microsoft.Web/sites/slots/write.
    for (const op of ops) assert.match(op, /^Microsoft\.[A-Za-z]+(\/[A-Za-z]+)+\/write$/);
    assert.deepEqual(
      ops,
      SUPPORTED_RESOURCE_TYPES.map((t) => `${t}/write`),
      'the filter derives each operation as {type}/write',
    );
  });
});
