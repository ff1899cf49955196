import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import type { Autopilot } from '../../src/app/composition';
import { runSweep, type SweepReport } from '../../src/sweep';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { grantAppOwner, rulesFor } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { assertReadableAt, chromiumSkipReason, dumpDom, reportScreenshot, startTags } from '../support/chromium';
import { useEmulator } from '../support/emulator-fixture';
import { buildSweepApp, SUB_A, SUB_B, seedSite } from './fixture';

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });
const storage = useAzurite();
const skip = chromiumSkipReason();

/**
 * A name and a tag value a resource creator chose to break out of the report's HTML: quotes to leave
 * an attribute (ARM ids may hold them; '<' never passes the product's id check), and a tag value with
 * a script element, which reaches the report quoted in a failure.
 */
const HOSTILE_NAME = `web-"onload="document.title='pwned-attr'`;
const HOSTILE_TAG = `<script>document.title='pwned-tag'</script>`;

const RULES = `
version: 1
scope:
  subscriptions: ["${SUB_A}", "${SUB_B}"]
  resourceGroups: ["rg-*"]
  profileTag: autopilot-profile
profiles:
  rg-reader:
    roles:
      - role: Reader
        scope: /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}
rules:
  - name: workloads
    identity:
      kind: SystemAssigned
    profiles: [rg-reader]
`;

/** The elements of one chart in the parsed DOM: the text from its `data-chart` attribute to its `</svg>`. */
function chart(dom: string, name: string): string {
  const start = dom.indexOf(`data-chart="${name}"`);
  assert.ok(start > 0, `chart ${name} is in the DOM`);
  return dom.slice(start, dom.indexOf('</svg>', start));
}
const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('HTML sweep report in a real browser (headless Chromium)', { skip }, () => {
  let app: Autopilot;
  const fixed: string[] = [];

  before(() => {
    grantAppOwner(env.emulator, SUB_A);
    grantAppOwner(env.emulator, SUB_B);
    env.emulator.resourceGraph.setQuota({ limit: 1000, windowMs: 1000 });
    app = buildSweepApp(env, rulesFor(RULES), { azurite: storage.azurite });
    fixed.push(seedSite(env, SUB_A, 'rg-apps', 'web-a1'), seedSite(env, SUB_B, 'rg-apps', 'web-b1'));
    seedSite(env, SUB_A, 'rg-apps', 'web-a2');
    seedResource(env.emulator.state, { subscriptionId: SUB_B, resourceGroup: 'rg-vms', type: SEED_TYPES.virtualMachine, name: 'vm-b1' });
    // Created outside ARM's name checks (Resource Graph shows whatever the RP stored): attacker-chosen text.
    seedSite(env, SUB_B, 'rg-apps', HOSTILE_NAME);
    seedSite(env, SUB_A, 'rg-apps', 'web-tagged', { 'autopilot-profile': HOSTILE_TAG });
  });

  it('draws the charts, the trend from the earlier report in the container and the findings table; no name or tag runs as script', async () => {
    const first = await runSweep(app, { reportOnly: true });
    for (const id of fixed) {
      const outcome = await app.remediator.remediate({ resourceId: id, correlationId: `html-${id.slice(-5)}`, mode: 'apply' });
      assert.equal(outcome.status, 'remediated', JSON.stringify(outcome.errors));
    }
    const second: SweepReport = await runSweep(app, { reportOnly: true });
    assert.equal(second.totals.compliant, first.totals.compliant + 2);
    assert.equal(second.totals.failed, 1, 'the hostile profile tag names no profile');

    // The HTML the sweep stored next to the Markdown, read back from the container.
    const container = BlobServiceClient.fromConnectionString(storage.azurite.connectionString).getContainerClient(
      app.settings.sweep.reportContainer,
    );
    const htmlBlob = decodeURIComponent(new URL(second.stored!.html).pathname).split(`/${app.settings.sweep.reportContainer}/`)[1]!;
    assert.ok(htmlBlob.endsWith('.html') && second.stored!.markdown.endsWith('.md'));
    const props = await container.getBlockBlobClient(htmlBlob).getProperties();
    assert.equal(props.contentType, 'text/html; charset=utf-8');
    const html = (await container.getBlockBlobClient(htmlBlob).downloadToBuffer()).toString('utf8');
    // Links to the portal are navigation a person chooses; `url(#hatch)` is the page's own pattern. Nothing else refers out.
    const links = html.match(/href="[^"]*"/g) ?? [];
    assert.ok(
      links.length > 0 && links.every((l) => l.startsWith('href="https://portal.azure.com/#@/resource/subscriptions/')),
      links.join(),
    );
    assert.doesNotMatch(
      html.replace(/href="https:\/\/portal\.azure\.com\/#@\/resource\/[^"]*"/g, '').replace(/url\(#hatch\)/g, ''),
      /<script|<link|src=|href=|@import|url\(/i,
      'self-contained: no script, no external asset',
    );

    const dir = mkdtempSync(join(tmpdir(), 'sweep-report-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const dom = await dumpDom(file);

    // Nothing from a name or a tag became an element or an event handler, and nothing ran.
    const tags = startTags(dom);
    assert.ok(tags.length > 50, 'the DOM was dumped');
    assert.deepEqual(
      tags.filter((t) => ['script', 'img', 'iframe', 'object', 'embed', 'link'].includes(t.tag)),
      [],
    );
    assert.deepEqual(
      tags.flatMap((t) => t.attributes.filter((a) => a.startsWith('on'))),
      [],
    );
    assert.match(dom, /<title>Compliance sweep [^<]+<\/title>/);
    assert.doesNotMatch(dom, /<title>[^<]*pwned/);
    // ... and the hostile text is shown as text.
    assert.ok(dom.includes(`>${HOSTILE_NAME}</a>`), 'the hostile name is text in the findings table');
    assert.ok(
      // <wbr>: break opportunities the report adds after '/' and '.' (never inside a word).
      dom.replace(/<wbr>/g, '').includes("&lt;script&gt;document.title='pwned-tag'&lt;/script&gt;"),
      'the hostile tag value is text in the failures table',
    );

    // The charts as the browser parsed them: one bar per type and per subscription, one point per sweep.
    const byType = chart(dom, 'by-type');
    assert.equal(count(byType, 'class="bar-compliant"'), Object.keys(second.compliance.byType).length);
    assert.equal(Object.keys(second.compliance.byType).length, 2, 'web apps and virtual machines');
    assert.ok(byType.includes('Microsoft.Web/sites') && byType.includes('Microsoft.Compute/virtualMachines'));
    const bySub = chart(dom, 'by-subscription');
    assert.equal(count(bySub, 'class="bar-non-compliant"'), 2);
    assert.ok(bySub.includes(SUB_A.toLowerCase()) && bySub.includes(SUB_B.toLowerCase()));
    const trend = chart(dom, 'trend');
    assert.equal(count(trend, 'class="trend-point"'), 2, 'the earlier sweep (from its stored summary) and this one');
    assert.ok(trend.includes(first.sweepId) && trend.includes(second.sweepId));
    // The findings table: one row per non-compliant resource.
    const findings = dom.slice(dom.indexOf('id="findings"'), dom.indexOf('</table>', dom.indexOf('id="findings"')));
    assert.equal(count(findings, '<tr>') - 1, second.totals.nonCompliant, 'a row per finding under the header row');

    // Readable at 1280 px, hostile name included: no horizontal scrolling, no word broken in the middle,
    // nothing cut off but names in an ellipsis with their id on hover; the reason and remedy columns.
    await assertReadableAt(html, 1280);

    // What a person sees: the screenshot docs/operations.md shows (AUTOPILOT_REPORT_SCREENSHOT=docs/img/sweep-report.png to refresh it).
    await reportScreenshot(file);
  });
});
