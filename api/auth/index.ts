export { authenticate, presentedApiKey } from './authenticate';
export { ownedOrganization, requireReseller, resellerOf, resellersOnlyMessage } from './guards';
export { actorOf, principalOf } from './principal';
