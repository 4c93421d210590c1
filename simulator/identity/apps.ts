import { randomBytes, randomUUID } from 'node:crypto';
import { CertificateInfo, parseCertificate } from '../util/jwt';

export interface AppSecret {
  keyId: string;
  value: string;
  hint: string;
  endDateTime: string;
}

/** A multi-tenant app registered in the publisher's (our company's) home tenant. */
export interface PublisherApp {
  clientId: string;
  displayName: string;
  secrets: AppSecret[];
  certificates: CertificateInfo[];
  redirectUris: string[];
  /** Graph application permissions (app-role values) the app requires; admin consent grants these. */
  requiredRoles: string[];
}

export interface RegisterAppInput {
  clientId?: string;
  displayName: string;
  /** Client secret; generated when omitted and no certificate is given. */
  secret?: string;
  secretEndDateTime?: string;
  /** PEM certificate whose private key signs client assertions. */
  certificatePem?: string;
  redirectUris?: string[];
  requiredRoles: string[];
}

export interface RegisteredApp {
  clientId: string;
  displayName: string;
  secret?: string;
  redirectUris: string[];
  requiredRoles: string[];
  certificateThumbprints: string[];
}

export function newSecretValue(): string {
  // Graph secrets are 40 chars of a URL-safe alphabet with '~' and '.'.
  return randomBytes(30).toString('base64').replace(/\+/g, '~').replace(/\//g, '.').slice(0, 40);
}

export class AppRegistry {
  readonly apps = new Map<string, PublisherApp>();

  register(input: RegisterAppInput): RegisteredApp {
    const clientId = input.clientId ?? randomUUID();
    const certificates = input.certificatePem ? [parseCertificate(input.certificatePem)] : [];
    const secretValue = input.secret ?? (certificates.length ? undefined : newSecretValue());
    const secrets: AppSecret[] = secretValue
      ? [
          {
            keyId: randomUUID(),
            value: secretValue,
            hint: secretValue.slice(0, 3),
            endDateTime: input.secretEndDateTime ?? new Date(Date.now() + 2 * 365 * 86400_000).toISOString(),
          },
        ]
      : [];
    const app: PublisherApp = {
      clientId,
      displayName: input.displayName,
      secrets,
      certificates,
      redirectUris: input.redirectUris ?? [],
      requiredRoles: [...input.requiredRoles],
    };
    this.apps.set(clientId, app);
    return describeApp(app, secretValue);
  }

  get(clientId: string): PublisherApp | undefined {
    return this.apps.get(clientId);
  }
}

export function describeApp(app: PublisherApp, secret?: string): RegisteredApp {
  return {
    clientId: app.clientId,
    displayName: app.displayName,
    ...(secret ? { secret } : {}),
    redirectUris: app.redirectUris,
    requiredRoles: app.requiredRoles,
    certificateThumbprints: app.certificates.map((c) => c.x5t),
  };
}
