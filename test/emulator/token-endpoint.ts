import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Directory, Principal } from './directory';
import type { TokenAuthority } from './tokens';

export interface TokenEndpoint {
  /** Value for IDENTITY_ENDPOINT. */
  url: string;
  /** Value for IDENTITY_HEADER. */
  secret: string;
  /** Tokens handed out, by principal id (never the tokens themselves). */
  issued: Array<{ principalId: string; resource: string; at: number }>;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * App Service's managed-identity endpoint (api-version 2019-08-01), plain HTTP on loopback as on App
 * Service. It answers for the app principal, or for a user-assigned identity named by `client_id`,
 * `principal_id` or `mi_res_id`.
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
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/msi/token') return send(res, 404, { error: 'not_found', error_description: 'Use /msi/token.' });
    if (req.headers['x-identity-header'] !== options.secret) {
      return send(res, 401, { error: 'invalid_request', error_description: 'The X-IDENTITY-HEADER header is missing or wrong.' });
    }
    if (url.searchParams.get('api-version') !== '2019-08-01') {
      return send(res, 400, { error: 'invalid_request', error_description: 'api-version 2019-08-01 is required.' });
    }
    const resource = url.searchParams.get('resource');
    if (!resource) return send(res, 400, { error: 'invalid_request', error_description: "The 'resource' parameter is required." });
    const clientId = url.searchParams.get('client_id');
    const principalId = url.searchParams.get('principal_id') ?? url.searchParams.get('object_id');
    const resourceId = url.searchParams.get('mi_res_id');
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
    send(res, 200, {
      access_token: token,
      expires_on: String(expiresOn),
      resource,
      token_type: 'Bearer',
      client_id: principal.clientId,
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/msi/token`,
    secret: options.secret,
    issued,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
