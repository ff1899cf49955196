import { LedgerEntrySchema } from '../ledger/types';
import { OutcomeSchema } from '../outcomes/schema';
import { openApiComponents } from './openapi-schema';
import { PROBLEM_CODES } from './problem';
import { REMEDIATION_REQUEST_SCHEMA } from './remediation-body';

/** The outcome and the ledger row, derived from their one schema (with Grantee and WorkloadIdentity). */
const OUTCOME_COMPONENTS = openApiComponents({ Outcome: OutcomeSchema, LedgerEntry: LedgerEntrySchema });

const problem = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

/** Answers every operation can give before it runs: who is calling, with which role, how often. */
const callerResponses = {
  '401': { ...problem, description: 'Unauthenticated: no Entra ID caller (App Service authentication) while role checks are on' },
  '403': { ...problem, description: 'MissingAppRole (or a request the rules refuse): the caller lacks the app role the operation needs' },
  '429': {
    ...problem,
    description: 'TooManyRequests: the per-caller rate limit (AUTOPILOT_HTTP_RATE_LIMIT_PER_MINUTE) is used up',
    headers: { 'Retry-After': { description: 'Seconds until the caller may call again', schema: { type: 'integer', minimum: 1 } } },
  },
};

/** OpenAPI 3.0 description of the HTTP API, served at GET /api/openapi.json and checked by tests. */
export const OPENAPI_DOCUMENT = {
  openapi: '3.0.3',
  info: {
    title: 'identity-autopilot',
    version: '1.0.0',
    description:
      'Plan or apply managed identity and role remediation for one Azure resource, and read the audit ledger. Every operation requires a function key (x-functions-key header or code query parameter) and, unless the operator turned role checks off (AUTOPILOT_HTTP_ROLE_CHECKS=false), a Microsoft Entra ID token validated by App Service authentication with an app role: Remediation.Apply to apply, Remediation.Read or Remediation.Apply to plan, Remediation.Read to read the ledger. Each caller may make AUTOPILOT_HTTP_RATE_LIMIT_PER_MINUTE calls a minute (429 with Retry-After beyond).',
  },
  servers: [{ url: '/api' }],
  security: [{ functionKey: [], entraId: [] }],
  paths: {
    '/remediations': {
      post: {
        operationId: 'Remediations_Create',
        summary: 'Plan (no writes) or apply the rules to one resource',
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/RemediationRequest' } } } },
        responses: {
          '200': {
            description: 'The outcome',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/RemediationResponse' } } },
          },
          '400': problem,
          ...callerResponses,
          '413': problem,
          '415': problem,
          '422': problem,
        },
      },
    },
    '/remediations/{requestId}': {
      get: {
        operationId: 'Remediations_Get',
        summary: 'The ledger entry of one apply request',
        parameters: [{ name: 'requestId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
        responses: {
          '200': { description: 'The entry', content: { 'application/json': { schema: { $ref: '#/components/schemas/LedgerEntry' } } } },
          '400': problem,
          ...callerResponses,
          '404': problem,
          '503': problem,
        },
      },
    },
    '/resources/{resourceId}/remediations': {
      get: {
        operationId: 'ResourceRemediations_List',
        summary: "A resource's ledger entries, newest first",
        parameters: [
          {
            name: 'resourceId',
            in: 'path',
            required: true,
            description: 'The ARM id, URL-encoded as one path segment',
            schema: { type: 'string' },
          },
          { name: 'top', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
        ],
        responses: {
          '200': {
            description: 'Entries',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['resourceId', 'value'],
                  properties: {
                    resourceId: { type: 'string' },
                    value: { type: 'array', items: { $ref: '#/components/schemas/LedgerEntry' } },
                  },
                },
              },
            },
          },
          '400': problem,
          ...callerResponses,
          '503': problem,
        },
      },
    },
  },
  components: {
    securitySchemes: {
      functionKey: { type: 'apiKey', in: 'header', name: 'x-functions-key' },
      entraId: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'A Microsoft Entra ID access token for the app registration App Service authentication is configured with',
      },
    },
    schemas: {
      RemediationRequest: REMEDIATION_REQUEST_SCHEMA,
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail', 'code'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          code: {
            type: 'string',
            enum: PROBLEM_CODES,
          },
          requestId: { type: 'string' },
        },
      },
      RemediationResponse: {
        type: 'object',
        required: ['requestId', 'mode', 'outcome'],
        properties: {
          requestId: { type: 'string', format: 'uuid' },
          mode: { type: 'string', enum: ['plan', 'apply'] },
          outcome: { $ref: '#/components/schemas/Outcome' },
        },
      },
      ...OUTCOME_COMPONENTS,
    },
  },
} as const;
