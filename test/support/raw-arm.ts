import https from 'node:https';
import type { ArmEmulator } from '../../tools/arm-emulator';
import type { Principal } from '../../tools/arm-emulator/directory';

export interface RawResponse {
  status: number;
  json: any;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Sends one request to the emulator by hand (no SDK, so no retries and no polling), as `principal`
 * (default: the app principal).
 */
export async function rawArm(
  emulator: ArmEmulator,
  method: string,
  path: string,
  options: { body?: unknown; principal?: Principal; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const token = (await emulator
    .credentialFor(options.principal ?? emulator.appPrincipal)
    .getToken('https://management.azure.com/.default'))!.token;
  const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${emulator.url}${path}`,
      {
        method,
        ca: emulator.ca,
        agent: false,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...options.headers },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode!, json: data ? JSON.parse(data) : undefined, headers: res.headers }));
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
