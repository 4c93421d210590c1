import type { PathsFragment } from '../types';
import { healthPaths } from './health';
import { diagnosticsPaths } from './diagnostics';
import { organizationPaths } from './organizations';
import { tenantPaths } from './tenants';
import { auditPaths } from './audit';
import { codecPaths } from './codec';
import { jobPaths } from './jobs';
import { storageLocationPaths } from './storage-locations';
import { snapshotPaths } from './snapshots';
import { exportPaths } from './exports';
import { restorePaths } from './restores';
import { sessionPaths } from './session';

/** Every fragment of the document, in the order the document lists them. A new area of the API adds its file here. */
export const pathFragments: PathsFragment[] = [
  healthPaths,
  diagnosticsPaths,
  organizationPaths,
  tenantPaths,
  snapshotPaths,
  jobPaths,
  exportPaths,
  restorePaths,
  auditPaths,
  codecPaths,
  storageLocationPaths,
  sessionPaths,
];
