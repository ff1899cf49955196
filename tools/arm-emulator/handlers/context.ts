import type { Principal } from '../directory';
import type { EmulatorState, Json } from '../state';
import type { ResourceGraphService } from './resource-graph';

export interface EmulatorRequest {
  method: string;
  /** Normalised path: one leading slash, no trailing slash, no query. */
  path: string;
  query: URLSearchParams;
  apiVersion: string;
  body: Json | undefined;
  principal: Principal;
  /** Request headers, names in lower case (conditional requests: `if-match`, `if-none-match`). */
  headers?: Readonly<Record<string, string>>;
}

export interface EmulatorResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface LroSettings {
  /** How long an operation stays InProgress (when no time factor is set). */
  durationMs: number;
  /**
   * When set, each operation runs for its RP's realistic duration (ResourceTypeModel.realisticWriteMs:
   * AKS and ACI take minutes) times this factor, e.g. 1/100 in tests; `durationMs` is then unused.
   */
  timeFactor?: number;
  /** Retry-After the RP sends on 202s and monitors (the SDK uses it as its poll interval). */
  retryAfterSeconds: number;
}

export interface HandlerContext {
  state: EmulatorState;
  lro: LroSettings;
  /** `https://127.0.0.1:port` */
  baseUrl: string;
  /** Azure Resource Graph (tables over `state`, paging cursors, quota). */
  resourceGraph?: ResourceGraphService;
}
