import { SimulatorControl } from './control/controller';
import { BACKUP_APP_ROLES, RESTORE_APP_ROLES } from './identity/permissions';

/** Fixed demo identities so the demo and docs can name them; secrets are for the local simulator only. */
export const DEMO = {
  tenantId: '7d3f1a52-6c1e-4b7a-9f0e-2b6c8d4e1a01',
  backupApp: { clientId: 'b4c2a1e0-0d1f-4c6b-8e1a-5a9c7d3e2b10', secret: 'sim-backup-secret~0123456789abcdefghijklmn' },
  restoreApp: {
    clientId: 'e7d9c3b1-2f4a-4d8e-9b1c-6c0a8f5e3d20',
    secret: 'sim-restore-secret~0123456789abcdefghijklm',
  },
  redirectUri: 'http://localhost:3000/consent/callback',
};

export function seedDemo(control: SimulatorControl, users = 1000): void {
  control.registerApp({
    clientId: DEMO.backupApp.clientId,
    displayName: 'Entra Backup (read)',
    secret: DEMO.backupApp.secret,
    redirectUris: [DEMO.redirectUri, 'https://localhost:3000/consent/callback'],
    requiredRoles: BACKUP_APP_ROLES,
  });
  control.registerApp({
    clientId: DEMO.restoreApp.clientId,
    displayName: 'Entra Backup (restore)',
    secret: DEMO.restoreApp.secret,
    redirectUris: [DEMO.redirectUri, 'https://localhost:3000/consent/callback'],
    requiredRoles: RESTORE_APP_ROLES,
  });
  control.createTenant({
    id: DEMO.tenantId,
    seed: 42,
    users,
    displayName: 'Contoso Demo',
    domainPrefix: 'contosodemo',
    consentTo: [DEMO.backupApp.clientId],
  });
}
