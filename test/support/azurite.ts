import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

export interface Azurite {
  blobUrl: string;
  queueUrl: string;
  tableUrl: string;
  /** Azurite's well-known development account. */
  accountName: string;
  accountKey: string;
  connectionString: string;
  /** The Azurite process (for tests that check it is gone). */
  pid: number;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /**
   * Serve HTTPS with this certificate and accept OAuth bearer tokens (`--oauth basic`), so clients
   * can authenticate with a managed identity, as in Azure.
   */
  tls?: { cert: string; key: string };
}

const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const START_TIMEOUT_MS = 20_000;
/** After SIGTERM Azurite closes its servers gracefully; past this it is killed outright. */
const STOP_GRACE_MS = 1_000;

/**
 * Starts Azurite (npm) in memory on free ports, for one suite. The process cannot outlive its
 * parent: it is killed on stop(), on a failed start, when this process exits, and (through an IPC
 * channel and `exit-with-parent.cjs`) even when this process is killed with SIGKILL.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const bin = join(__dirname, '..', '..', 'node_modules', 'azurite', 'dist', 'src', 'azurite.js');
  const tlsArgs: string[] = [];
  if (options.tls) {
    const dir = mkdtempSync(join(tmpdir(), 'azurite-tls-'));
    writeFileSync(join(dir, 'cert.pem'), options.tls.cert);
    writeFileSync(join(dir, 'key.pem'), options.tls.key, { mode: 0o600 });
    tlsArgs.push('--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem'), '--oauth', 'basic');
  }
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--require',
      join(__dirname, 'exit-with-parent.cjs'),
      bin,
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--blobPort',
      '0',
      '--queuePort',
      '0',
      '--tablePort',
      '0',
      '--blobHost',
      '127.0.0.1',
      '--queueHost',
      '127.0.0.1',
      '--tableHost',
      '127.0.0.1',
      ...tlsArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  // Kill it synchronously if this process exits first (normal end or an uncaught exception).
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  // The IPC channel only exists so the child notices our death; it must not keep us alive.
  child.channel?.unref();
  child.unref();

  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  // Keep draining both pipes for the child's whole life so it never blocks on a full pipe.
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  let ports: Record<string, string>;
  try {
    ports = await new Promise<Record<string, string>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Azurite did not start in ${START_TIMEOUT_MS / 1000} s:\n${output}`)),
        START_TIMEOUT_MS,
      );
      const onData = () => {
        const found: Record<string, string> = {};
        for (const m of output.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at (https?:\/\/[^\s]+)/g))
          found[m[1]!] = m[2]!;
        if (found.Blob && found.Queue && found.Table) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve(found);
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Azurite exited with ${code ?? signal}:\n${output}`));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const blobUrl = `${ports.Blob}/${ACCOUNT}`;
  const queueUrl = `${ports.Queue}/${ACCOUNT}`;
  const tableUrl = `${ports.Table}/${ACCOUNT}`;
  return {
    blobUrl,
    queueUrl,
    tableUrl,
    accountName: ACCOUNT,
    accountKey: KEY,
    connectionString: `DefaultEndpointsProtocol=${options.tls ? 'https' : 'http'};AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=${blobUrl};QueueEndpoint=${queueUrl};TableEndpoint=${tableUrl};`,
    pid: child.pid!,
    stop,
  };
}

export interface AzuriteFixture {
  readonly azurite: Azurite;
}

/** Starts Azurite once for the suite (file) in `before` and always stops it in `after`. */
export function useAzurite(): AzuriteFixture {
  let azurite: Azurite | undefined;
  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });
  return {
    get azurite() {
      assert.ok(azurite, 'Azurite starts in before()');
      return azurite;
    },
  };
}
