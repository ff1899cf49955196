import type { RemediationOutcome } from '../engine/types';

/**
 * Exit codes scripts can rely on:
 * 0 compliant or done; 1 failed; 2 changes planned but not made (plan mode, report-only rules, dry
 * run, or drift found by a report-only sweep); 3 bad input (usage, invalid id or rules, a request the
 * rules refuse, a resource that does not exist).
 */
export const EXIT = { ok: 0, failed: 1, changesPlanned: 2, badInput: 3 } as const;

export function exitCodeFor(outcome: RemediationOutcome): number {
  switch (outcome.status) {
    case 'compliant':
    case 'remediated':
    case 'skipped':
      return EXIT.ok;
    case 'planned':
    case 'pending':
    case 'deferred':
      return EXIT.changesPlanned;
    case 'blocked':
      return EXIT.failed;
    case 'gone':
      return EXIT.badInput;
    case 'failed':
      return EXIT.failed;
  }
}
