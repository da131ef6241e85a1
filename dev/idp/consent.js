// Which users have consented to which APIs for which app, and Entra's error when they have not.
//
// Entra records a user's (or an administrator's) consent per client application and resource.
// Here every pair counts as admin-consented except those a registration lists as `unconsented`
// (per extra API, and for Microsoft Graph). An interactive authorization request asking for one
// of such an API's scopes records the consent, in memory: a restart forgets it again.

import { entraErrorBody } from './entra-errors.js';
import { GRAPH } from './resources.js';

export class ConsentStore {
  /** @param {object[]} regs normalised registrations */
  constructor(regs) {
    // "<clientId> <resource URI>" → oids that have not consented (from the registrations).
    this.missing = new Map();
    for (const reg of regs) {
      const oidOf = new Map(reg.users.map((u) => [u.username.toLowerCase(), u.oid]));
      const oids = (usernames) => new Set(usernames.map((n) => oidOf.get(n.toLowerCase())));
      for (const api of reg.apis) {
        this.missing.set(`${reg.clientId} ${api.appIdUri}`, oids(api.unconsented));
      }
      this.missing.set(`${reg.clientId} ${GRAPH.appIdUri}`, oids(reg.graph.unconsented));
    }
    // "<clientId> <resource URI> <oid>" consented to since start-up.
    this.given = new Set();
  }

  /** Whether user `oid` has consented to `resourceUri` for `clientId`. */
  has(clientId, oid, resourceUri) {
    const missing = this.missing.get(`${clientId} ${resourceUri}`);
    if (!missing?.has(oid)) return true;
    return this.given.has(`${clientId} ${resourceUri} ${oid}`);
  }

  /** Records that user `oid` consented to `resourceUri` for `clientId`. */
  record(clientId, oid, resourceUri) {
    this.given.add(`${clientId} ${resourceUri} ${oid}`);
  }
}

/**
 * The token endpoint's body when consent is missing (HTTP 400), as Entra returns it for a
 * refresh-token grant: AADSTS65001 names the client application, not the resource.
 */
export function consentRequiredBody(clientId, clientName) {
  return entraErrorBody({
    error: 'invalid_grant',
    code: 65001,
    message: `The user or administrator has not consented to use the application with ID '${clientId}' named '${clientName}'. Send an interactive authorization request for this user and resource.`,
    suberror: 'consent_required',
  });
}

/** The error description of a silent (prompt=none) authorization request lacking consent. */
export const SILENT_CONSENT_REQUIRED = 'AADSTS65001: The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.';
