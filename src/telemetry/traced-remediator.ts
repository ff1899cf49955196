import { SpanStatusCode } from '@opentelemetry/api';
import type { RemediationRequest } from '../engine/remediate';
import { Remediator } from '../engine/remediate';
import type { RemediationOutcome } from '../engine/types';
import { ATTR } from './names';
import { resourceTypeAttribute, type Telemetry } from './telemetry';

/**
 * The engine's Remediator, each remediation in a span of its own (`remediation`, carrying the
 * resource id and correlation id; ARM calls are its children). A subclass here keeps src/engine free
 * of any telemetry import.
 */
export class TracedRemediator extends Remediator {
  private readonly telemetry: Telemetry;

  constructor(telemetry: Telemetry, ...args: ConstructorParameters<typeof Remediator>) {
    super(...args);
    this.telemetry = telemetry;
  }

  override async remediate(request: RemediationRequest): Promise<RemediationOutcome> {
    const telemetry = this.telemetry;
    if (!telemetry.enabled) return super.remediate(request);
    const attributes = {
      [ATTR.resourceId]: request.resourceId,
      [ATTR.correlationId]: request.correlationId,
      'autopilot.mode': request.mode,
      ...(request.resume ? { 'autopilot.resume.attempt': request.resume.attempt } : {}),
    };
    return telemetry.inSpan(
      'remediation',
      attributes,
      () => super.remediate(request),
      (span, outcome) => {
        span.setAttributes({ [ATTR.resourceType]: resourceTypeAttribute(outcome.resourceType), [ATTR.outcome]: outcome.status });
        if (outcome.deferral) span.setAttribute('autopilot.deferral.reason', outcome.deferral.reason);
        // Codes only: an error's message can quote what ARM returned.
        if (outcome.errors.length > 0)
          span.setAttribute(
            'autopilot.error.codes',
            outcome.errors.map((e) => e.code),
          );
        if (outcome.status === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.errors[0]?.code ?? 'failed' });
      },
    );
  }
}
