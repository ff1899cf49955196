import { htmlText, markdownText } from '../text/safe-text';
import type { SecretlessComponent, SecretlessSection } from './secretless';

/**
 * The secretless section of the sweep's Markdown and HTML reports, and the lines the CLI prints. Every
 * text cell is escaped: component names, metadata field names and ids are chosen by resource creators.
 * The section holds names, ids and dates only (src/sweep/secretless.ts), so nothing here can print a value.
 */

/** The grant column: `held since 2026-01-01T10:00Z (42 min)` per target field. */
export function grantText(c: SecretlessComponent): string {
  const parts = c.apps.flatMap((a) =>
    a.grants.map((g) => {
      const age = g.ageMinutes !== undefined ? ` (${g.ageMinutes} min)` : '';
      const status = g.status === 'held' ? `held since ${g.since ?? '?'}${age}` : g.status;
      return `${a.daprAppId ?? a.resourceId}: ${g.roles.join(' + ')} on ${g.field}: ${status}`;
    }),
  );
  return parts.join('; ') || '—';
}

/** The exact change, as a sentence: what to remove, and what to do with azureClientId. */
export function changeText(c: SecretlessComponent): string {
  if (!c.change) return 'none (already on the identity)';
  const ch = c.change;
  const out = [`remove metadata ${ch.removeMetadata.join(', ')}`];
  if (ch.removeSecrets.length > 0) out.push(`remove secret(s) ${ch.removeSecrets.join(', ')}`);
  const id = ch.azureClientId;
  if (id.action === 'set') out.push(`set azureClientId to ${id.clientId}`);
  else if (id.action === 'remove') out.push('remove azureClientId (it names the service principal, not the identity)');
  else if (id.action === 'choose') out.push(`azureClientId: ${id.reason}`);
  return out.join('; ');
}

export function componentCells(c: SecretlessComponent): string[] {
  return [c.name, c.componentType, c.method, grantText(c), changeText(c), c.environmentId];
}

const COMPONENT_HEAD = ['component', 'type', 'method', 'identity grant', 'change', 'environment'];
const TARGET_HEAD = ['target', 'local auth', 'verdict', 'blocked by / unknown because'];

export function targetCells(t: SecretlessSection['targets'][number]): string[] {
  return [t.id, t.flag, t.verdict, [...t.blockers, ...t.unknowns].join('; ') || '—'];
}

function summary(s: SecretlessSection): string {
  const t = s.totals;
  return `${t.onKeys} of ${t.components} Dapr component(s) still use a key or connection string; targets: ${t.ready} ready, ${t.notReady} not ready, ${t.unknown} unknown, ${t.alreadyOff} already off.${s.scan.complete ? '' : ` ${s.scan.failed.length} environment(s) could not be listed.`}`;
}

const RULE =
  'A target is "ready" only when no scanned component uses its keys, every environment was listed, and a trusted input declares that only scanned components use them; otherwise "unknown" (keys can be held outside what the product sees).';

/** What the sweep did for rules with `secretless.migrate`: `orders-state: migrated: ...` per considered component. */
export const migrationLines = (s: SecretlessSection) => (s.migrations ?? []).map((m) => `${m.name}: ${m.status}: ${m.detail}`);

export function secretlessMarkdown(s: SecretlessSection): string[] {
  const row = (cells: string[]) => `| ${cells.map(markdownText).join(' | ')} |`;
  const out = ['## Secretless', '', markdownText(summary(s)), ''];
  const migrations = migrationLines(s);
  if (migrations.length > 0)
    out.push('Migrations (rules with secretless.migrate):', '', ...migrations.map((l) => `- ${markdownText(l)}`), '');
  if (s.components.length > 0)
    out.push(row(COMPONENT_HEAD), `|${' --- |'.repeat(COMPONENT_HEAD.length)}`, ...s.components.map((c) => row(componentCells(c))), '');
  if (s.targets.length > 0)
    out.push(row(TARGET_HEAD), `|${' --- |'.repeat(TARGET_HEAD.length)}`, ...s.targets.map((t) => row(targetCells(t))), '');
  out.push(markdownText(RULE), '');
  return out;
}

/** Escaped, with break opportunities after '/' and '.' (ids, component types): never a break inside a word. */
const wrappable = (text: string) =>
  htmlText(text)
    .replace(/\//g, '/<wbr>')
    .replace(/\.(?=[A-Za-z])/g, '.<wbr>');

/** A name column: the last segment of an id, its full id on hover, and a second line (ellipsis when too long). */
function nameCell(id: string, name: string, below: string): string {
  const title = htmlText(id);
  return `<td class="res"><span class="name" title="${title}">${htmlText(name)}</span><span class="where" title="${title}">${htmlText(below)}</span></td>`;
}

const lastSegment = (id: string) => id.replace(/\/+$/, '').split('/').pop() || id;

export function secretlessHtml(s: SecretlessSection): string[] {
  const td = (text: string) => `<td>${wrappable(text)}</td>`;
  const head = (cells: string[]) => `<thead><tr>${cells.map((c) => `<th>${htmlText(c)}</th>`).join('')}</tr></thead>`;
  const component = (c: SecretlessComponent) =>
    `<tr>${nameCell(c.componentId, c.name, `environment ${lastSegment(c.environmentId)}`)}${td(c.componentType)}${td(c.method)}${td(grantText(c))}${td(changeText(c))}</tr>`;
  const target = (t: SecretlessSection['targets'][number]) =>
    `<tr>${nameCell(t.id, t.name, t.type)}${td(t.flag)}${td(t.verdict)}${td([...t.blockers, ...t.unknowns].join('; ') || '—')}</tr>`;
  return [
    '<h2 id="secretless">Secretless</h2>',
    `<p>${htmlText(summary(s))}</p>`,
    ...(s.migrations?.length
      ? [
          `<ul id="secretless-migrations">${migrationLines(s)
            .map((l) => `<li>${htmlText(l)}</li>`)
            .join('')}</ul>`,
        ]
      : []),
    `<table id="secretless-components">${head(['component', 'type', 'method', 'identity grant', 'change'])}<tbody>`,
    ...s.components.map(component),
    '</tbody></table>',
    `<table id="secretless-targets">${head(TARGET_HEAD)}<tbody>`,
    ...s.targets.map(target),
    '</tbody></table>',
    `<p class="note">${htmlText(RULE)}</p>`,
  ];
}
