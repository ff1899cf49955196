import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Directory, Principal } from './directory';
import type { TokenAuthority } from './tokens';

export interface TokenEndpoint {
  /** Value for IDENTITY_ENDPOINT. */
  url: string;
  /** Value for IDENTITY_HEADER. */
  secret: string;
  /** Value for MSI_ENDPOINT (Cloud Shell / legacy protocol). */
  legacyUrl: string;
  /** Tokens handed out, by principal id (never the tokens themselves). */
  issued: Array<{ principalId: string; resource: string; at: number }>;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 64 * 1024) chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/**
 * The managed-identity token endpoint, plain HTTP on loopback as on App Service and in Cloud Shell.
 * It speaks the two protocols clients use off a VM (Azure facts, "Managed identity token protocols"):
 * - App Service / Functions: `GET /msi/token?api-version=2019-08-01&resource=...` with header
 *   `X-IDENTITY-HEADER` (= IDENTITY_HEADER), as `ManagedIdentityCredential` sends it;
 * - Cloud Shell / legacy `MSI_ENDPOINT`: `POST` form `resource=...` with header `Metadata: true`, as
 *   msrestazure's `get_msi_token` sends it for `az login --identity` (Azure CLI 2.45). Cloud Shell's
 *   endpoint has no secret; here the path carries this run's secret instead, so the emulator stays
 *   stricter than Azure (nothing else on the machine can mint tokens by guessing the URL).
 * It answers for the app principal, or for a user-assigned identity named by `client_id`,
 * `principal_id`/`object_id` or `mi_res_id` (`msi_res_id` in the legacy form).
 */
export async function startTokenEndpoint(options: {
  directory: Directory;
  authority: TokenAuthority;
  appPrincipal: () => Principal;
  userAssignedByResourceId: (id: string) => Principal | undefined;
  secret: string;
  port?: number;
}): Promise<TokenEndpoint> {
  const issued: TokenEndpoint['issued'] = [];
  const legacyPath = `/msi/legacy/${options.secret}/token`;
  const answer = (res: http.ServerResponse, params: URLSearchParams, legacy: boolean) => {
    const resource = params.get('resource');
    if (!resource) return send(res, 400, { error: 'invalid_request', error_description: "The 'resource' parameter is required." });
    const clientId = params.get('client_id');
    const principalId = params.get('principal_id') ?? params.get('object_id');
    const resourceId = params.get('mi_res_id') ?? (legacy ? params.get('msi_res_id') : null);
    const principal = clientId
      ? options.directory.byClientId(clientId)
      : principalId
        ? options.directory.get(principalId)
        : resourceId
          ? options.userAssignedByResourceId(resourceId)
          : options.appPrincipal();
    if (!principal) return send(res, 400, { error: 'invalid_request', error_description: 'No managed identity matches the request.' });
    const { token, expiresOn } = options.authority.issue(principal, resource);
    issued.push({ principalId: principal.id, resource, at: Date.now() });
    const now = Math.floor(Date.now() / 1000);
    // Cloud Shell's answer also carries expires_in and not_before (msrestazure reads expires_on).
    const legacyFields = legacy ? { expires_in: String(expiresOn - now), not_before: String(now) } : {};
    send(res, 200, {
      access_token: token,
      expires_on: String(expiresOn),
      ...legacyFields,
      resource,
      token_type: 'Bearer',
      client_id: principal.clientId,
    });
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === legacyPath) {
      if (req.method !== 'POST') return send(res, 405, { error: 'invalid_request', error_description: 'Use POST with a form body.' });
      if (String(req.headers.metadata).toLowerCase() !== 'true') {
        return send(res, 400, {
          error: 'invalid_request',
          error_description: "Required metadata header not specified ('Metadata: true').",
        });
      }
      readForm(req).then(
        (form) => answer(res, form, true),
        () => send(res, 400, { error: 'invalid_request', error_description: 'The form body could not be read.' }),
      );
      return;
    }
    if (url.pathname !== '/msi/token') return send(res, 404, { error: 'not_found', error_description: 'Use /msi/token.' });
    if (req.headers['x-identity-header'] !== options.secret) {
      return send(res, 401, { error: 'invalid_request', error_description: 'The X-IDENTITY-HEADER header is missing or wrong.' });
    }
    if (url.searchParams.get('api-version') !== '2019-08-01') {
      return send(res, 400, { error: 'invalid_request', error_description: 'api-version 2019-08-01 is required.' });
    }
    answer(res, url.searchParams, false);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/msi/token`,
    secret: options.secret,
    legacyUrl: `http://127.0.0.1:${port}${legacyPath}`,
    issued,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
