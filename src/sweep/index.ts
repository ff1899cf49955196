/** Compliance sweeps: Resource Graph scan, queue fan-out, reports. The CLI's `sweep` calls runSweep. */
export { runSweep, type SweepHost, type SweepOptions, type SweepPorts, type SweepProgress } from './sweep';
export type { SweepReport, SweepFinding, SweepTotals, SweepFailure } from './report';
export { BlobReportStore, InMemoryReportStore, renderMarkdown } from './report';
export { InMemoryRemediationQueue, StorageRemediationQueue, parseRemediationMessage, type RemediationMessage, type RemediationQueuePort } from './remediation-queue';
export { ResourceGraphReader, SdkGraphQueryPort, type GraphQueryPort } from './resource-graph';
export { governedResourcesQuery, roleAssignmentsOfPrincipalsQuery } from './queries';
