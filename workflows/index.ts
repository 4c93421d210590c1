// Every workflow the worker registers; the worker bundles this file.
export * from './storage-probe';
export * from './storage-probe-messages';
export * from './reseller-account';
export * from './reseller-account-messages';
export * from './tenant';
export * from './tenant-backup';
export * from './tenant-messages';
export * from './tenant-backup-messages';
export * from './retention';
export * from './export';
export * from './export-messages';
export * from './verify';
export * from './verify-messages';
export * from './restore';
export * from './restore-messages';
