import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { anchors, documentationFiles, readDoc } from './doc-blocks';

/**
 * The README is the 10-minute path, not the manual (issue 24 item 2): at most 200 lines, and every
 * relative link of README.md and docs/*.md reaches a file that exists and, with an anchor, a heading or
 * an `<a id>` in it, so moving a section cannot leave a dangling pointer behind.
 */
const REPO = resolve(__dirname, '../..');
export const README_MAX_LINES = 200;

function relativeLinks(text: string): string[] {
  const withoutCode = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((href) => !/^[a-z]+:/i.test(href));
}

describe('the README and docs/', () => {
  it(`README.md is at most ${README_MAX_LINES} lines`, () => {
    const lines = readDoc(REPO, 'README.md').replace(/\n$/, '').split('\n').length;
    assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines; move detail to docs/`);
  });

  it('every relative link reaches an existing file and anchor', () => {
    const broken = documentationFiles(REPO).flatMap((file) => {
      const text = readDoc(REPO, file);
      return relativeLinks(text).flatMap((href) => {
        const [path, anchor] = href.split('#') as [string, string | undefined];
        const target = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)));
        if (!existsSync(join(REPO, target))) return [`${file}: ${href} (no file ${target})`];
        if (anchor && target.endsWith('.md') && !anchors(readDoc(REPO, target)).has(anchor)) return [`${file}: ${href} (no anchor)`];
        return [];
      });
    });
    assert.deepEqual(broken, []);
  });

  it('the anchor check knows GitHub slugs', () => {
    assert.ok(anchors("## Pacing under ARM's limits\n").has('pacing-under-arms-limits'));
    assert.ok(anchors('### App settings (set by `infra/app/function-app.bicep`)\n').has('app-settings-set-by-infraappfunction-appbicep'));
    assert.ok(anchors('```sh\n# not a heading\n```\n').size === 0);
  });
});
