import selfsigned from 'selfsigned';

export interface TlsMaterial {
  key: string;
  cert: string;
}

/**
 * A certificate made fresh for each emulator run, valid for 127.0.0.1 and localhost only. Clients trust
 * it through `tlsOptions.ca`, never by turning verification off.
 */
export async function createSelfSignedCertificate(): Promise<TlsMaterial> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 7 * 24 * 3600_000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'identity-autopilot-emulator' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  } as never);
  return { key: pems.private, cert: pems.cert };
}
