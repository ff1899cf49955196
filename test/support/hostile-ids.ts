import { SUB_A } from './emulator-fixture';

const RG = `/subscriptions/${SUB_A}/resourceGroups/rg-ids`;
/** A well-formed web app id the hostile ids are variations of. */
export const GOOD_WEB = `${RG}/providers/Microsoft.Web/sites/web-ids`;
/** Another team's app, which traversal ids try to reach. */
export const VICTIM = `/subscriptions/${SUB_A}/resourceGroups/rg-victim/providers/Microsoft.Web/sites/victim`;

/**
 * Ids a caller, a tagger or a queue writer could send. `normalised`: the SDK (or ARM decoding the
 * path) turns it into a request for another path than the id says; test/arm/resource-id.test.ts
 * proves each of those against the real SDK.
 */
export const HOSTILE_IDS: ReadonlyArray<{ label: string; id: string; normalised?: boolean }> = [
  { label: 'empty', id: '' },
  { label: "'/'", id: '/' },
  { label: "'//'", id: '//' },
  { label: "a '.' name", id: `${RG}/providers/Microsoft.Web/sites/.`, normalised: true },
  { label: "a '..' name", id: `${RG}/providers/Microsoft.Web/sites/..`, normalised: true },
  {
    label: "'..' traversal to another team's app",
    id: `${GOOD_WEB}/../../../../rg-victim/providers/Microsoft.Web/sites/victim`,
    normalised: true,
  },
  {
    label: "percent-encoded '..' (%2e%2e)",
    id: `${GOOD_WEB}/%2e%2e/%2E%2E/%2e%2e/%2e%2e/rg-victim/providers/Microsoft.Web/sites/victim`,
    normalised: true,
  },
  { label: "an encoded '/' (%2F)", id: `${RG}/providers/Microsoft.Web/sites/web%2Fslots`, normalised: true },
  {
    label: 'a doubled slash inside',
    id: `/subscriptions/${SUB_A}//resourceGroups/rg-ids/providers/Microsoft.Web/sites/web-ids`,
    normalised: true,
  },
  { label: 'a doubled trailing slash', id: `${GOOD_WEB}//` },
  {
    label: "a backslash ('\\\\..\\\\')",
    id: `${GOOD_WEB}\\..\\..\\..\\..\\rg-victim\\providers\\Microsoft.Web\\sites\\victim`,
    normalised: true,
  },
  { label: "a '?' (query injection)", id: `${GOOD_WEB}?api-version=2016-08-01&x=`, normalised: true },
  { label: "a '#' (fragment)", id: `${GOOD_WEB}#x` },
  { label: 'a tab inside a name', id: `${RG}/providers/Microsoft.Web/sites/web-\tids`, normalised: true },
  { label: 'a newline', id: `${GOOD_WEB}\n` },
  { label: 'an ANSI escape', id: `${RG}/providers/Microsoft.Web/sites/web-ids\u001b[2J` },
  { label: 'a right-to-left override', id: `${RG}/providers/Microsoft.Web/sites/web-\u202eids` },
];
