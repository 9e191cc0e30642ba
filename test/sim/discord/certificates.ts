import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TinyscribeError } from '../../../src/util/errors.js';

const execFileAsync = promisify(execFile);

/** A throwaway self-signed certificate for 127.0.0.1/localhost, kept in its own temp directory. */
export interface SelfSignedCertificate {
  readonly dir: string;
  /** PEM certificate; also the CA to trust (NODE_EXTRA_CA_CERTS or tls.setDefaultCACertificates). */
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * Creates the certificate with the openssl CLI. Why a real certificate: @discordjs/voice hard-codes
 * `wss://`, and tests must keep TLS verification on (trusting this cert) rather than disabling it.
 */
export async function createSelfSignedCertificate(): Promise<SelfSignedCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'tinyscribe-sim-cert-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  try {
    await execFileAsync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
        '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout', keyPath, '-out', certPath,
      ],
      { timeout: 30_000 },
    );
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { dir, certPath, keyPath, cert, key };
  } catch (error: unknown) {
    await rm(dir, { recursive: true, force: true });
    throw new TinyscribeError('SIM_CERT_FAILED', 'could not create the self-signed certificate with openssl', {
      cause: error,
    });
  }
}

/** Deletes the certificate directory. */
export async function removeCertificate(cert: SelfSignedCertificate): Promise<void> {
  await rm(cert.dir, { recursive: true, force: true });
}
