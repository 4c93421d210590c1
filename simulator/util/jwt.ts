import { createPublicKey, createSign, createVerify, constants, KeyObject, X509Certificate } from 'node:crypto';

export interface JwtParts {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function signRs256(payload: Record<string, unknown>, privateKey: KeyObject, kid: string): string {
  const header = { typ: 'JWT', alg: 'RS256', kid, x5t: kid };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = createSign('RSA-SHA256').update(input).sign(privateKey);
  return `${input}.${b64url(sig)}`;
}

export function decodeJwt(token: string): JwtParts | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>,
      payload: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2], 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/** Verifies RS256 or PS256 (msal-node signs certificate assertions with PS256 + x5t#S256, older ones RS256 + x5t). */
export function verifyJwtSignature(jwt: JwtParts, key: KeyObject): boolean {
  const alg = jwt.header.alg;
  if (alg === 'RS256') return createVerify('RSA-SHA256').update(jwt.signingInput).verify(key, jwt.signature);
  if (alg === 'PS256') {
    return createVerify('RSA-SHA256')
      .update(jwt.signingInput)
      .verify(
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
        jwt.signature,
      );
  }
  return false;
}

export interface CertificateInfo {
  pem: string;
  publicKey: KeyObject;
  /** base64url of the SHA-1 / SHA-256 fingerprint, as carried in x5t / x5t#S256. */
  x5t: string;
  x5tS256: string;
  notAfter: string;
}

export function parseCertificate(pem: string): CertificateInfo {
  const cert = new X509Certificate(pem);
  const hexToB64url = (fp: string) => Buffer.from(fp.replace(/:/g, ''), 'hex').toString('base64url');
  return {
    pem,
    publicKey: createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' })),
    x5t: hexToB64url(cert.fingerprint),
    x5tS256: hexToB64url(cert.fingerprint256),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}
