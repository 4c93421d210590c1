// Every workflow the worker registers; the worker bundles this file.
export * from './storage-probe';
export * from './reseller-account';
export * from './tenant';
export * from './tenant-backup';
export * from './tenant-messages';
export * from './retention';
export * from './restore';
