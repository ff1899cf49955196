import type { RemediationOutcome } from '../engine/types';

/**
 * Exit codes, as the Azure CLI uses them (azure-cli `src/azure-cli-core/azure/cli/core/util.py`
 * `handle_exception`: 1 by default, 3 for `ResourceNotFoundError`; `parser.py`: argparse errors exit 2):
 * - 0 success: the command did what was asked (a plan was made, the resource is compliant or was fixed);
 * - 1 failure: Azure or the product failed, a change was blocked, the rules file is invalid, a
 *   confirmation was declined or could not be asked (no terminal and no `--yes`);
 * - 2 usage error: unknown command or option, bad option value, malformed resource id, a profile or
 *   resource the rules do not accept, an invalid `--query`;
 * - 3 resource not found.
 * With `--detailed-exitcode` the codes are terraform plan's `-detailed-exitcode` ("0 - Succeeded, diff is
 * empty; 1 - Errored; 2 - Succeeded, there is a diff"): a successful command whose work is not finished
 * exits 2 instead of 0 (changes planned by plan, report-only rules or sweep, dry run; or outstanding:
 * pending, deferred), and every error exits 1, usage errors and a missing resource included (main.ts
 * failureExit), so CI never takes a typo for drift. Without the flag 2 only ever means a usage error.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, changesPlanned: 2 } as const;

/** Whether an outcome status leaves changes to be made (planned, pending, deferred). */
export function leavesChanges(status: string): boolean {
  return status === 'planned' || status === 'pending' || status === 'deferred';
}

export function exitCodeFor(outcome: RemediationOutcome, detailed: boolean): number {
  switch (outcome.status) {
    case 'compliant':
    case 'remediated':
    case 'skipped':
      return EXIT.ok;
    case 'planned':
    case 'pending':
    case 'deferred':
      return detailed ? EXIT.changesPlanned : EXIT.ok;
    case 'blocked':
    case 'failed':
      return EXIT.failed;
    case 'gone':
      return EXIT.notFound;
  }
}
