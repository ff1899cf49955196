import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface Azurite {
  blobUrl: string;
  queueUrl: string;
  tableUrl: string;
  /** Azurite's well-known development account. */
  accountName: string;
  accountKey: string;
  connectionString: string;
  stop(): Promise<void>;
}

const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Starts Azurite (npm) in memory on free ports, for one suite. */
export async function startAzurite(): Promise<Azurite> {
  const bin = join(__dirname, '..', '..', 'node_modules', 'azurite', 'dist', 'src', 'azurite.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, '--inMemoryPersistence', '--disableTelemetry', '--skipApiVersionCheck', '--blobPort', '0', '--queuePort', '0', '--tablePort', '0', '--blobHost', '127.0.0.1', '--queueHost', '127.0.0.1', '--tableHost', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const ports = await new Promise<Record<string, string>>((resolve, reject) => {
    const found: Record<string, string> = {};
    let output = '';
    const timer = setTimeout(() => reject(new Error(`Azurite did not start in 20 s:\n${output}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const m of output.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at (http:\/\/[^\s]+)/g)) found[m[1]!] = m[2]!;
      if (found.Blob && found.Queue && found.Table) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.on('exit', (code) => reject(new Error(`Azurite exited with ${code}:\n${output}`)));
  });
  const blobUrl = `${ports.Blob}/${ACCOUNT}`;
  const queueUrl = `${ports.Queue}/${ACCOUNT}`;
  const tableUrl = `${ports.Table}/${ACCOUNT}`;
  return {
    blobUrl,
    queueUrl,
    tableUrl,
    accountName: ACCOUNT,
    accountKey: KEY,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=${blobUrl};QueueEndpoint=${queueUrl};TableEndpoint=${tableUrl};`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
