import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';

export interface CertificatePaths {
  caCertPath: string;
  certPath: string;
  keyPath: string;
}

const OPENSSL = existsSync('/usr/bin/openssl') ? '/usr/bin/openssl' : 'openssl';

function openssl(args: string[]): void {
  execFileSync(OPENSSL, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Creates (once) a local CA and a server certificate for localhost, 127.0.0.1 and ::1 signed by it.
 * Node trusts the CA through NODE_EXTRA_CA_CERTS, so msal-node and graph-client talk to the simulator unmodified.
 */
export async function ensureCertificates(dir: string): Promise<CertificatePaths> {
  const abs = path.resolve(dir);
  mkdirSync(abs, { recursive: true });
  const caCertPath = path.join(abs, 'ca.pem');
  const caKeyPath = path.join(abs, 'ca-key.pem');
  const certPath = path.join(abs, 'server.pem');
  const keyPath = path.join(abs, 'server-key.pem');
  if ([caCertPath, caKeyPath, certPath, keyPath].every((p) => existsSync(p))) {
    return { caCertPath, certPath, keyPath };
  }
  if (!existsSync(caCertPath) || !existsSync(caKeyPath)) {
    openssl(['genrsa', '-out', caKeyPath, '2048']);
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      caKeyPath,
      '-sha256',
      '-days',
      '3650',
      '-subj',
      '/CN=entra-backup local simulator CA',
      '-out',
      caCertPath,
    ]);
  }
  const csrPath = path.join(abs, 'server.csr');
  const extPath = path.join(abs, 'server.ext');
  openssl(['genrsa', '-out', keyPath, '2048']);
  openssl(['req', '-new', '-key', keyPath, '-subj', '/CN=localhost', '-out', csrPath]);
  writeFileSync(
    extPath,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      '',
    ].join('\n'),
  );
  openssl([
    'x509',
    '-req',
    '-in',
    csrPath,
    '-CA',
    caCertPath,
    '-CAkey',
    caKeyPath,
    '-CAcreateserial',
    '-out',
    certPath,
    '-days',
    '825',
    '-sha256',
    '-extfile',
    extPath,
  ]);
  for (const p of [csrPath, extPath, path.join(abs, 'ca.srl')]) if (existsSync(p)) unlinkSync(p);
  return { caCertPath, certPath, keyPath };
}

if (require.main === module) {
  const dir = process.argv[2] ?? path.resolve(__dirname, '..', '..', '.local', 'certs');
  ensureCertificates(dir)
    .then((p) => console.log(p.caCertPath))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
