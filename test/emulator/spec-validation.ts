import { join } from 'node:path';
import { LiveValidator } from 'oav';
import { log as oavLog } from 'oav/dist/lib/util/logging';

export interface SpecViolation {
  method: string;
  url: string;
  operationId: string;
  side: 'request' | 'response';
  code: string;
  message: string;
  path: string;
}

export interface TrafficPair {
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody: unknown;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: unknown;
}

/** Verbatim copies of Azure/azure-rest-api-specs files; see specs/PROVENANCE.md. */
export const SPEC_DIRECTORY = join(__dirname, 'specs');

// Operations whose spec is not stored here are reported by oav as "not found"; those pairs are
// simply unchecked, not violations.
const NO_SPEC = /OPERATION_NOT_FOUND|OPERATION_NOT_FOUND_IN_CACHE/;

/**
 * Checks every request/response pair the emulator serves against the official REST specs with oav's
 * LiveValidator. Violations are collected; the test fixture fails the test that caused them.
 */
export class SpecValidator {
  private validator?: LiveValidator;
  private ready?: Promise<void>;
  private pending = new Set<Promise<void>>();
  readonly violations: SpecViolation[] = [];
  checked = 0;

  start(): Promise<void> {
    this.ready ??= (async () => {
      for (const transport of oavLog.transports) transport.silent = true;
      const validator = new LiveValidator({
        directory: SPEC_DIRECTORY,
        swaggerPathsPattern: ['specification/**/*.json'],
        excludedSwaggerPathsPattern: ['**/examples/**'],
        git: { shouldClone: false },
        isPathCaseSensitive: false,
        loadValidatorInInitialize: true,
      } as ConstructorParameters<typeof LiveValidator>[0]);
      await validator.initialize();
      this.validator = validator;
    })();
    return this.ready;
  }

  check(pair: TrafficPair): void {
    const run = this.validate(pair).finally(() => this.pending.delete(run));
    this.pending.add(run);
  }

  /** Waits for checks in flight, then returns every violation seen so far. */
  async settle(): Promise<SpecViolation[]> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    return this.violations;
  }

  private async validate(pair: TrafficPair): Promise<void> {
    await this.start();
    const result = await this.validator!.validateLiveRequestResponse({
      liveRequest: { url: pair.url, method: pair.method.toLowerCase(), headers: pair.requestHeaders, body: pair.requestBody as never },
      liveResponse: { statusCode: String(pair.status), headers: pair.responseHeaders, body: pair.responseBody as never },
    });
    const sides = [
      ['request', result.requestValidationResult],
      ['response', result.responseValidationResult],
    ] as const;
    let unchecked = false;
    for (const [side, r] of sides) {
      if (r.runtimeException && NO_SPEC.test(r.runtimeException.code)) {
        unchecked = true;
        continue;
      }
      if (r.runtimeException) {
        this.violations.push({ method: pair.method, url: pair.url, operationId: r.operationInfo.operationId, side, code: r.runtimeException.code, message: r.runtimeException.message, path: '' });
      }
      for (const e of r.errors) {
        this.violations.push({
          method: pair.method,
          url: pair.url,
          operationId: r.operationInfo.operationId,
          side,
          code: String(e.code),
          message: e.message,
          path: (e.pathsInPayload ?? []).join(','),
        });
      }
    }
    if (!unchecked) this.checked++;
  }
}
