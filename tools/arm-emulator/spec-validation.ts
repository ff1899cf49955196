import { join } from 'node:path';
import { LiveValidator } from 'oav';
import { log as oavLog } from 'oav/dist/lib/util/logging';
import { checkWithRpModels, preloadRpModels } from './rp-models';

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
  /** Calls seen, by operation id (checked) or method and path template (not checked). */
  readonly coverage = new Map<string, { checked: number; total: number }>();

  private count(operation: string, checked: boolean): void {
    const entry = this.coverage.get(operation) ?? { checked: 0, total: 0 };
    entry.total++;
    if (checked) entry.checked++;
    this.coverage.set(operation, entry);
  }

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
      preloadRpModels();
    })();
    return this.ready;
  }

  check(pair: TrafficPair): void {
    if (this.checkModels(pair)) return;
    const run = this.validate(pair).finally(() => this.pending.delete(run));
    this.pending.add(run);
  }

  /** Waits for checks in flight, then returns every violation seen so far. */
  async settle(): Promise<SpecViolation[]> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    return this.violations;
  }

  /** The six workload RPs: checked against their SDK models (rp-models.ts says why not with oav). */
  private checkModels(pair: TrafficPair): boolean {
    const path = new URL(pair.url).pathname.replace(/\/+/g, '/');
    const result = checkWithRpModels(pair.method, path, pair.requestBody, pair.status, pair.responseBody);
    if (!result) return false;
    for (const p of result.problems) {
      this.violations.push({
        method: pair.method,
        url: pair.url,
        operationId: result.operationId,
        side: p.side,
        code: 'SDK_MODEL_MISMATCH',
        message: p.message,
        path: p.message.split(':')[0]!,
      });
    }
    this.checked++;
    this.count(result.operationId, true);
    return true;
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
        this.violations.push({
          method: pair.method,
          url: pair.url,
          operationId: r.operationInfo.operationId,
          side,
          code: r.runtimeException.code,
          message: r.runtimeException.message,
          path: '',
        });
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
    const operationId = result.requestValidationResult.operationInfo?.operationId;
    this.count(!unchecked && operationId ? operationId : `${pair.method} ${pathTemplate(new URL(pair.url).pathname)}`, !unchecked);
  }
}

const NAMED = new Set(['subscriptions', 'resourcegroups']);

/** `/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Web/sites/{}`: a call's shape without its names. */
export function pathTemplate(path: string): string {
  const segs = path.split('/').filter(Boolean);
  const out: string[] = [];
  let i = 0;
  while (i < segs.length) {
    const seg = segs[i]!;
    if (seg.toLowerCase() === 'providers' && i + 1 < segs.length) {
      out.push(seg, segs[i + 1]!);
      i += 2;
      // type/name pairs after the namespace, up to a nested `providers`
      while (i < segs.length && segs[i]!.toLowerCase() !== 'providers') {
        out.push(segs[i]!);
        if (i + 1 < segs.length) out.push('{}');
        i += 2;
      }
      continue;
    }
    out.push(seg);
    if (NAMED.has(seg.toLowerCase()) && i + 1 < segs.length) out.push('{}');
    i += NAMED.has(seg.toLowerCase()) ? 2 : 1;
  }
  return `/${out.join('/')}`;
}

/** "N of M ARM calls spec-checked, by operation: ..." for a coverage map (one or merged from several runs). */
export function coverageLine(coverage: Map<string, { checked: number; total: number }>): string {
  let checked = 0;
  let total = 0;
  const parts: string[] = [];
  for (const [operation, c] of [...coverage.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    checked += c.checked;
    total += c.total;
    parts.push(c.checked === c.total ? `${operation} ${c.total}` : `${operation} ${c.checked}/${c.total}`);
  }
  return `${checked} of ${total} ARM calls spec-checked, by operation: ${parts.join(', ')}`;
}
