/**
 * Microsoft Graph's published throttling limits for identity and access (directory) requests: the one table that the
 * product's pacer, the Entra simulator and the benchmark all read. It lives outside both product and simulator
 * because neither may import the other (README "Architecture"); it imports nothing.
 * https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits
 */

/** Tenant size classes: S under 50 users, M 50–500, L above 500. */
export type TenantSizeClass = 'S' | 'M' | 'L';

/** Resource units one application may spend in one tenant per window, by tenant size. */
export const RESOURCE_UNITS_PER_WINDOW: Readonly<Record<TenantSizeClass, number>> = { S: 3500, M: 5000, L: 8000 };

/** The window of the app+tenant resource-unit budget. */
export const RESOURCE_UNIT_WINDOW_MS = 10_000;
