import assert from 'node:assert/strict';
import { isRestError } from '@azure/core-rest-pipeline';

/** Asserts a promise rejects with an ARM RestError of this status and code. */
export async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(isRestError(e), `expected a RestError, got ${String(e)}`);
    assert.equal(e.statusCode, status);
    assert.equal(e.code, code);
    return true;
  });
}
