import type { HttpResponseInit } from '@azure/functions';

/** Stable problem codes of the HTTP API; documented in the OpenAPI description (PROBLEM_CODES). */
export type ProblemCode =
  | 'UnsupportedMediaType'
  | 'BodyTooLarge'
  | 'InvalidJson'
  | 'InvalidBody'
  | 'InvalidResourceId'
  | 'OutsideGovernedScope'
  | 'UnknownProfile'
  | 'ProfileNotSelectable'
  | 'RulesNotApplicable'
  | 'NotFound'
  | 'LedgerUnavailable'
  | 'Unauthenticated'
  | 'MissingAppRole'
  | 'TooManyRequests';

export const PROBLEM_TYPE_BASE = 'https://github.com/identity-autopilot/identity-autopilot/blob/main/docs/http-api.md#problem-';

const TITLES: Record<ProblemCode, string> = {
  UnsupportedMediaType: 'Unsupported media type',
  BodyTooLarge: 'Request body too large',
  InvalidJson: 'Request body is not valid JSON',
  InvalidBody: 'Request body does not match the schema',
  InvalidResourceId: 'Not a valid ARM resource id',
  OutsideGovernedScope: 'Resource outside the governed scope',
  UnknownProfile: 'Unknown role profile',
  ProfileNotSelectable: 'Role profile not selectable for this resource',
  RulesNotApplicable: 'The rules cannot be applied to this resource',
  NotFound: 'Not found',
  LedgerUnavailable: 'The audit ledger is unavailable',
  Unauthenticated: 'The caller is not authenticated',
  MissingAppRole: 'The caller lacks the app role this operation needs',
  TooManyRequests: 'Too many requests from this caller',
};

export const PROBLEM_CODES = Object.keys(TITLES) as ProblemCode[];

/** An RFC 9457 problem details response. */
export function problem(
  status: number,
  code: ProblemCode,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): HttpResponseInit {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${code.toLowerCase()}`, title: TITLES[code], status, detail, code, ...extra }),
  };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
