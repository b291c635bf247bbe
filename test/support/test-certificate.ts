import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** The PEM certificate (self-signed, so it is its own CA). */
  readonly cert: string;
  readonly key: string;
}

/**
 * A throwaway self-signed certificate for `localhost` and 127.0.0.1, valid one day, written to
 * `directory` (the caller removes it).
 */
export async function createTestCertificate(directory: string): Promise<TestCertificate> {
  const certFile = join(directory, 'cert.pem');
  const keyFile = join(directory, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  return { certFile, keyFile, cert, key };
}
