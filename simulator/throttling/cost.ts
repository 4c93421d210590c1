/**
 * Resource-unit cost of one Graph request, per "Identity and access service limits":
 * https://learn.microsoft.com/en-us/graph/throttling-limits.
 */
export function requestCost(
  method: string,
  segments: string[],
  query: URLSearchParams,
): { ru: number; write: boolean } {
  if (method !== 'GET') return { ru: 1, write: true };
  const [root, id, rel] = segments;
  let ru = 1;
  if (root === 'users' || root === 'applications') ru = 2;
  if (root === 'groups' && id && rel === 'members') ru = 3;
  if (root === 'groups' && id && rel === 'transitiveMembers') ru = 5;
  if (root === 'oauth2PermissionGrants') ru = 2;
  if (root === 'servicePrincipals' && id && rel === 'appRoleAssignments') ru = 2;
  if (root === 'subscribedSkus') ru = 3;
  if (query.has('$select')) ru -= 1;
  if (query.has('$expand')) ru += 1;
  const top = Number(query.get('$top'));
  if (query.has('$top') && Number.isFinite(top) && top < 20) ru -= 1;
  return { ru: Math.max(1, ru), write: false };
}
