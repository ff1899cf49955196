import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { PROBLEM_CODES, PROBLEM_TYPE_BASE, problem } from '../../src/http/problem';
import { anchors, readDoc } from './doc-blocks';

/** A problem's `type` is a link a caller can follow: it must land on that code's entry in docs/http-api.md. */
const REPO = resolve(__dirname, '../..');

describe('problem types link to docs/http-api.md', () => {
  it('the base URL names docs/http-api.md', () => {
    assert.match(PROBLEM_TYPE_BASE, /\/docs\/http-api\.md#problem-$/);
  });

  it('every problem code has its anchor there', () => {
    const defined = anchors(readDoc(REPO, 'docs/http-api.md'));
    const missing = PROBLEM_CODES.map((code) => {
      const body = JSON.parse(String(problem(400, code, 'detail').body)) as { type: string };
      return body.type.slice(body.type.indexOf('#') + 1);
    }).filter((anchor) => !defined.has(anchor));
    assert.deepEqual(missing, []);
  });
});
