/**
 * `npm run build:builtin-roles [-- --check]`
 *
 * Regenerates src/config/builtin-roles.json, the built-in role table the app loads at start-up, from
 * two verbatim copies of public data (provenance in src/config/builtin-roles.SOURCE.md):
 *
 * - scripts/build/data/builtin-roles.json: every built-in role's name and GUID (933);
 * - scripts/build/data/builtin-role-permissions.json: the permissions of 928 of them.
 *
 * Each role keeps its name, GUID and a projection of its permissions: of every permission entry only
 * the actions / notActions / dataActions / notDataActions patterns that cover one of
 * ACCESS_CONTROL_ACTIONS (src/config/roles.ts), under Azure's wildcard rules. For "does this role allow
 * an access-control action" the projection gives exactly the answer the full permissions give (a
 * pattern that covers none of those actions cannot change it), and it keeps the table about as small
 * as the name list (the full permissions are ~880 KB). Roles with no permissions in the source get no
 * `permissions` key, and the app refuses them.
 *
 * `--check` exits 1 when the committed table differs from what would be generated (a test runs it too).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACCESS_CONTROL_ACTIONS, actionMatches, type RolePermission } from '../../src/config/roles';

const REPO = join(__dirname, '..', '..');
export const NAMES_PATH = join(REPO, 'scripts/build/data/builtin-roles.json');
export const PERMISSIONS_PATH = join(REPO, 'scripts/build/data/builtin-role-permissions.json');
export const TABLE_PATH = join(REPO, 'src/config/builtin-roles.json');

interface NamedRole {
  roleName: string;
  id: string;
}
export interface RoleWithPermissions extends NamedRole {
  permissions: Array<RolePermission & { condition?: string; conditionVersion?: string }>;
}

const KEYS = ['actions', 'notActions', 'dataActions', 'notDataActions'] as const;

const relevant = (pattern: string) => ACCESS_CONTROL_ACTIONS.some((action) => actionMatches(pattern, action));

/** The part of `permissions` that can matter to the access-control check, in source order. */
export function projectPermissions(permissions: readonly RolePermission[]): RolePermission[] {
  const out: RolePermission[] = [];
  for (const p of permissions) {
    const kept: Record<string, string[]> = {};
    for (const key of KEYS) {
      const patterns = (p[key] ?? []).filter(relevant);
      if (patterns.length > 0) kept[key] = patterns;
    }
    // An entry without allowing patterns allows nothing here, whatever it subtracts.
    if (kept.actions || kept.dataActions) out.push(kept);
  }
  return out;
}

export function readFullPermissions(): RoleWithPermissions[] {
  return JSON.parse(readFileSync(PERMISSIONS_PATH, 'utf8')) as RoleWithPermissions[];
}

/** The table's text: one role per line, so a diff shows which role changed. */
export function generateTable(): string {
  const names = JSON.parse(readFileSync(NAMES_PATH, 'utf8')) as NamedRole[];
  const permissions = new Map(readFullPermissions().map((r) => [r.id.toLowerCase(), r.permissions]));
  const lines = names.map(({ roleName, id }) => {
    const found = permissions.get(id.toLowerCase());
    return JSON.stringify(found ? { roleName, id, permissions: projectPermissions(found) } : { roleName, id });
  });
  return `[\n${lines.join(',\n')}\n]\n`;
}

if (require.main === module) {
  const text = generateTable();
  if (process.argv.includes('--check')) {
    if (readFileSync(TABLE_PATH, 'utf8') !== text) {
      console.error(`${TABLE_PATH} is out of date: run npm run build:builtin-roles`);
      process.exit(1);
    }
  } else {
    writeFileSync(TABLE_PATH, text);
    console.log(`${TABLE_PATH}: ${text.length} bytes`);
  }
}
