import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { triggerMetadataInt } from '../../src/functions/trigger-metadata';

describe('trigger metadata integers', () => {
  it('reads an int64 as the Node.js worker delivers it (a Long), a number, or a numeric string', () => {
    // The worker decodes TypedData.int with @grpc/proto-loader (no `longs` option): a Long object,
    // { low, high, unsigned } (test/functions-host/app-invocations.ts sends it through @azure/functions).
    assert.equal(triggerMetadataInt({ low: 7, high: 0, unsigned: false }), 7);
    assert.equal(triggerMetadataInt({ low: 0, high: 1, unsigned: false }), 2 ** 32);
    assert.equal(triggerMetadataInt(3), 3);
    assert.equal(triggerMetadataInt('4'), 4);
  });

  it('anything else is unknown, not NaN', () => {
    for (const v of [undefined, null, 'x', NaN, {}, { low: 'a', high: 0 }, []]) assert.equal(triggerMetadataInt(v), undefined, String(v));
  });
});
