/**
 * The Functions runtime in Azure is a Node version Flex Consumption offers for the v4 model (22 or 24;
 * 20 is past end of life), while the code itself stays runnable on Node 20 (engines, bundle target),
 * and `npm start` builds before starting the Functions host.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const REPO = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

describe('Node runtime versions', () => {
  const bicep = read('infra/app/function-app.bicep');

  it('the Function App runs node 22 by default, from a parameter limited to 22 and 24', () => {
    assert.match(bicep, /runtime: \{\s*name: 'node'\s*version: nodeVersion\s*\}/);
    const allowed = /@allowed\(\[\s*((?:'\d+'\s*)+)\]\)\s*@description\([^)]*\)\s*param nodeVersion string = '(\d+)'/.exec(bicep);
    assert.ok(allowed, 'param nodeVersion with @allowed');
    const values = allowed[1]!.match(/\d+/g);
    assert.deepEqual(values, ['22', '24']);
    assert.equal(allowed[2], '22');
  });

  it('the code still declares and targets Node 20', () => {
    const pkg = JSON.parse(read('package.json'));
    assert.equal(pkg.engines.node, '>=20.0.0');
    assert.match(read('scripts/build/package.mjs'), /target: 'node20'/);
    assert.match(read('tsconfig.json'), /"target": "ES2022"|"target": "es2022"/i);
  });

  it('npm start builds with tsc and then runs `func start` on the built entry point', () => {
    const pkg = JSON.parse(read('package.json'));
    assert.equal(pkg.scripts.prestart, 'npm run build');
    assert.equal(pkg.scripts.start, 'func start');
    assert.equal(pkg.main, 'dist/src/functions/index.js');
  });
});
