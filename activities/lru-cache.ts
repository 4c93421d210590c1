/**
 * How many tenants' worth of each per-tenant cache one worker process keeps (README "Many tenants per worker").
 * Repository handles hold a tenant's index (the largest entry); pacers, Retry-After gates, msal clients and tokens
 * are small. Beyond the bound the least recently used entry goes, except one still in use (a pacer with requests in
 * flight, a gate still closed): evicting those would split a tenant's pacing or send a request before Retry-After.
 */
export const perTenantCacheLimits = {
  repositories: 32,
  pacers: 500,
  retryAfterGates: 500,
  tokenClients: 500,
};

export { LruCache } from '../storage/lru-cache';
