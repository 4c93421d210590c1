/**
 * `npm run app-permissions`: the Microsoft Graph application permissions each Entra app registration needs, taken
 * from the catalog (every type's read permission and relationships for the Backup app, every write for the Restore
 * app). docs/deployment.md quotes this output; a unit test keeps the two equal.
 */
import { requiredReadPermissions, requiredWritePermissions } from '../catalog';

export function appPermissions(): { backup: string[]; restore: string[] } {
  return { backup: requiredReadPermissions(), restore: requiredWritePermissions() };
}

function run(): void {
  const { backup, restore } = appPermissions();
  console.log(`Backup app (read-only), ${backup.length} application permissions:\n  ${backup.join('\n  ')}`);
  console.log(`Restore app, ${restore.length} application permissions:\n  ${restore.join('\n  ')}`);
}

if (require.main === module) {
  try {
    run();
  } catch (err) {
    console.error(err);
    process.exit(1);
  }
}
