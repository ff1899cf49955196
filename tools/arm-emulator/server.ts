import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { ArmError } from './arm-error';
import type { Principal } from './directory';
import { EventGridTopic } from './event-grid-topic';
import { type FaultAction, FaultInjector, faultError, type OperationKind, operationKind } from './faults';
import type { EmulatorRequest, EmulatorResponse, HandlerContext, LroSettings } from './handlers/context';
import { isResourceGraphPath, ResourceGraphService } from './handlers/resource-graph';
import { route } from './router';
import { SpecValidator, type SpecViolation } from './spec-validation';
import { EmulatorState, key } from './state';
import { ArmThrottle } from './throttling';
import { createSelfSignedCertificate } from './tls';
import { startTokenEndpoint, type TokenEndpoint } from './token-endpoint';
import { ARM_AUDIENCE, TokenAuthority } from './tokens';

export interface RequestLogEntry {
  seq: number;
  at: number;
  method: string;
  path: string;
  /** The request target's path exactly as it arrived (before decoding and slash collapsing). */
  rawPath: string;
  apiVersion?: string;
  query: Record<string, string>;
  body?: unknown;
  /** The caller's principal id, when the token was valid. */
  principalId?: string;
  status: number;
  errorCode?: string;
  operation: OperationKind;
  durationMs: number;
}

export interface EmulatorOptions {
  port?: number;
  identityPort?: number;
  tenantId?: string;
  lro?: Partial<LroSettings>;
  /** Check traffic against the REST specs with oav (default true). */
  specValidation?: boolean;
  /** Print one line per request to stderr. */
  verbose?: boolean;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The local Azure Resource Manager: HTTPS, bearer tokens, RBAC, LROs, faults, spec checks. */
export class ArmEmulator {
  readonly state: EmulatorState;
  readonly faults = new FaultInjector();
  readonly throttle = new ArmThrottle();
  /** Azure Resource Graph: its per-user quota (not ARM's buckets) applies to its queries. */
  readonly resourceGraph: ResourceGraphService;
  readonly requests: RequestLogEntry[] = [];
  readonly specs = new SpecValidator();
  readonly tokens: TokenAuthority;
  /** The principal the app runs as; the token endpoint answers for it by default. */
  readonly appPrincipal: Principal;
  readonly lro: LroSettings;
  /** A custom Event Grid topic at `${url}/api/events`. */
  readonly topic: EventGridTopic;
  url = '';
  ca = '';
  /** This run's key and certificate (valid for 127.0.0.1), e.g. for Azurite over HTTPS. */
  tls?: { key: string; cert: string };
  private server?: https.Server;
  private tokenEndpoint?: TokenEndpoint;
  private seq = 0;

  constructor(private readonly options: EmulatorOptions = {}) {
    this.state = new EmulatorState(options.tenantId);
    this.resourceGraph = new ResourceGraphService(this.state);
    this.tokens = new TokenAuthority(this.state.directory);
    this.appPrincipal = this.state.directory.create({ displayName: 'identity-autopilot (app)' });
    this.lro = { durationMs: 0, retryAfterSeconds: 0, ...options.lro };
    this.topic = new EventGridTopic(this.tokens);
  }

  async start(): Promise<this> {
    const tls = await createSelfSignedCertificate();
    this.ca = tls.cert;
    this.tls = tls;
    if (this.options.specValidation !== false) await this.specs.start();
    this.server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      this.handle(req, res).catch((e) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(e) } }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.tokenEndpoint = await startTokenEndpoint({
      directory: this.state.directory,
      authority: this.tokens,
      appPrincipal: () => this.appPrincipal,
      userAssignedByResourceId: (id) => {
        const ua = this.state.resource(id);
        return ua ? this.state.directory.get(ua.body.properties.principalId) : undefined;
      },
      secret: randomBytes(16).toString('hex'),
      port: this.options.identityPort,
    });
    return this;
  }

  /** App Service-style settings that make `ManagedIdentityCredential` use this emulator. */
  get managedIdentityEnvironment(): { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string } {
    return { IDENTITY_ENDPOINT: this.tokenEndpoint!.url, IDENTITY_HEADER: this.tokenEndpoint!.secret };
  }

  /**
   * Cloud Shell-style setting (`MSI_ENDPOINT`) for clients that speak the legacy protocol, such as
   * `az login --identity` in Azure CLI 2.45. The URL holds this run's secret: treat it like IDENTITY_HEADER.
   */
  get legacyManagedIdentityEnvironment(): { MSI_ENDPOINT: string } {
    return { MSI_ENDPOINT: this.tokenEndpoint!.legacyUrl };
  }

  get tokensIssued(): TokenEndpoint['issued'] {
    return this.tokenEndpoint!.issued;
  }

  /** A credential acting as any principal of the emulator's directory (for test set-up and negative tests). */
  credentialFor(principal: Principal): TokenCredential {
    return {
      getToken: async (): Promise<AccessToken> => {
        const { token, expiresOn } = this.tokens.issue(principal, ARM_AUDIENCE);
        return { token, expiresOnTimestamp: expiresOn * 1000 };
      },
    };
  }

  /** Requests since `fromSeq`, optionally only writes. */
  requestsSince(fromSeq: number, filter: { writesOnly?: boolean; principalId?: string } = {}): RequestLogEntry[] {
    return this.requests.filter(
      (r) =>
        r.seq > fromSeq &&
        (!filter.writesOnly || r.operation !== 'read') &&
        (!filter.principalId || r.principalId?.toLowerCase() === filter.principalId.toLowerCase()),
    );
  }

  get lastSeq(): number {
    return this.seq;
  }

  async specViolations(): Promise<SpecViolation[]> {
    return this.specs.settle();
  }

  async close(): Promise<void> {
    await this.specs.settle();
    await this.tokenEndpoint?.close();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private context(): HandlerContext {
    return { state: this.state, lro: this.lro, baseUrl: this.url, resourceGraph: this.resourceGraph };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    // Concatenate rather than resolve: a path starting with '//' would otherwise be read as a host.
    const url = new URL(`${this.url}${req.url ?? '/'}`);
    // The SDKs send `//subscriptions/...`: collapse repeated slashes, drop a trailing one.
    const path = `/${url.pathname.split('/').filter(Boolean).map(decodeURIComponent).join('/')}`;
    const apiVersion = url.searchParams.get('api-version') ?? undefined;
    const raw = await readBody(req);
    if (path.toLowerCase() === '/api/events') return this.topic.handle(req, res, raw ?? '');
    let body: unknown;
    let principal: Principal | undefined;
    let response: EmulatorResponse;
    const extraHeaders: Record<string, string> = {};
    try {
      if (raw === undefined)
        throw new ArmError(413, 'RequestEntityTooLarge', `The request content exceeds the maximum of ${MAX_BODY_BYTES} bytes.`);
      principal = this.authenticate(req.headers.authorization);
      if (!apiVersion)
        throw new ArmError(
          400,
          'MissingApiVersionParameter',
          'The api-version query parameter (?api-version=) is required for all requests.',
        );
      body = parseJson(raw);
      const decision = isResourceGraphPath(path)
        ? ({ allowed: true, headers: {} } as const)
        : this.throttle.take(principal.id, /^\/subscriptions\/([^/]+)/i.exec(path)?.[1] ?? 'tenant', operationKind(method));
      Object.assign(extraHeaders, decision.headers);
      if (!decision.allowed) {
        throw new ArmError(429, 'TooManyRequests', 'The request is being throttled as the limit has been reached for operation type.', {
          'Retry-After': String(decision.retryAfterSeconds),
        });
      }
      await this.applyFaults(this.faults.select(method, path), path);
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v ?? '')]),
      );
      const request: EmulatorRequest = { method, path, query: url.searchParams, apiVersion, body: body as never, principal, headers };
      response = route(this.context(), request);
    } catch (e) {
      const err = e instanceof ArmError ? e : new ArmError(500, 'InternalServerError', e instanceof Error ? e.message : String(e));
      response = { status: err.status, body: err.toBody(), headers: err.headers };
      if (err.status === 401) {
        response.headers = {
          ...response.headers,
          'WWW-Authenticate':
            'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The access token is missing or invalid."',
        };
      }
    }
    const headers: Record<string, string> = {
      'x-ms-request-id': randomUUID(),
      'x-ms-correlation-request-id': String(req.headers['x-ms-correlation-request-id'] ?? randomUUID()),
      ...extraHeaders,
      ...response.headers,
    };
    const payload = response.body === undefined ? '' : JSON.stringify(response.body);
    if (payload) headers['content-type'] = 'application/json; charset=utf-8';
    const errorCode = (response.body as { error?: { code?: string } } | undefined)?.error?.code;
    const entry: RequestLogEntry = {
      seq: ++this.seq,
      at: started,
      method,
      path,
      rawPath: (req.url ?? '/').split('?')[0]!,
      apiVersion,
      query: Object.fromEntries(url.searchParams),
      body,
      principalId: principal?.id,
      status: response.status,
      errorCode,
      operation: operationKind(method),
      durationMs: Date.now() - started,
    };
    this.requests.push(entry);
    if (this.options.verbose)
      process.stderr.write(`[arm-emulator] ${method} ${path} ${response.status}${errorCode ? ` ${errorCode}` : ''}\n`);
    if (this.options.specValidation !== false && principal && errorCode !== 'InvalidRequestContent') {
      this.specs.check({
        method,
        url: `${this.url}${url.pathname.replace(/^\/+/, '/')}${url.search}`,
        requestHeaders: { 'content-type': 'application/json' },
        requestBody: body,
        status: response.status,
        responseHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
        responseBody: response.body,
      });
    }
    res.writeHead(response.status, headers);
    res.end(payload);
  }

  private authenticate(header: string | undefined): Principal {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) throw new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
    const verdict = this.tokens.verify(m[1]!);
    if ('reason' in verdict) throw new ArmError(401, 'InvalidAuthenticationToken', `The access token is invalid. ${verdict.reason}`);
    return verdict.principal;
  }

  private async applyFaults(actions: FaultAction[], path: string): Promise<void> {
    for (const action of actions) {
      if (action.kind === 'latency') await new Promise((r) => setTimeout(r, action.ms));
      else if (action.kind === 'delete-resource') this.state.deleteResource(resourceIdOf(path));
      else if (action.kind === 'run') action.run(this.state);
      else throw faultError(action);
    }
  }
}

function parseJson(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new ArmError(
      400,
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: '${(e as Error).message}'.`,
    );
  }
}

/** The tracked resource a path addresses (the first type/name pair after the provider namespace). */
function resourceIdOf(path: string): string {
  const m = /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/[^/]+\/[^/]+\/[^/]+)/i.exec(path);
  return key(m?.[1] ?? path);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startArmEmulator(options: EmulatorOptions = {}): Promise<ArmEmulator> {
  return new ArmEmulator(options).start();
}
