/** Compliance sweeps: Resource Graph scan, queue fan-out, reports. The CLI's `sweep` calls runSweep. */

export { governedResourcesQuery, roleAssignmentsOfPrincipalsQuery } from './queries';
export {
  InMemoryRemediationQueue,
  parseRemediationMessage,
  type RemediationMessage,
  type RemediationQueuePort,
  StorageRemediationQueue,
} from './remediation-queue';
export type { SweepFailure, SweepFinding, SweepReport, SweepTotals } from './report';
export { BlobReportStore, InMemoryReportStore, renderMarkdown } from './report';
export { type GraphQueryPort, ResourceGraphReader, SdkGraphQueryPort } from './resource-graph';
export { runSweep, type SweepHost, type SweepOptions, type SweepPorts, type SweepProgress } from './sweep';
