// Entra ID app registrations served by the development identity provider.
//
// Each entry models one Entra single-page application registration (public client, `clientId`)
// and the APIs it holds delegated permissions on:
//   * its own API (`apiAppId`, exposed as `apiAppIdUri`, default `api://<apiAppId>`), with its
//     delegated scopes (`scopes`) and the app roles of each test user (`users[].roles`);
//   * optionally further APIs (`apis`), e.g. Azure TRE's one registration per workspace, whose
//     tokens the app obtains with the same sign-in (refresh-token grant, one API per request);
//   * Microsoft Graph (`User.Read`), which every registration may call, as in Entra.
//
// Add another system by appending an entry to `registrations`. Passwords are deliberately
// simple and public: this provider is for local development and tests only.
//
// User fields: username (UPN, becomes preferred_username), password, name (display name),
// email, oid (stable object id GUID), roles (app roles assigned on the registration's own API; an
// empty list means the `roles` claim is omitted, as Entra does), jobTitle (Graph's `jobTitle`;
// null when absent) and photo (whether Graph has a profile photo for the user).
//
// Extra API fields (`apis[]`): name, appId (GUID, the tokens' `aud`), appIdUri (default
// `api://<appId>`), scopes (delegated scope names), roles (app-role assignments on that API, by
// username; users not listed hold none) and unconsented (usernames that have not consented to
// this API for this app: a refresh-token grant for it fails with AADSTS65001 until they sign in
// interactively asking for one of its scopes).
//
// `graph.unconsented` lists the users who have not consented to Microsoft Graph for this app.
// Every other user/API pair counts as admin-consented.
//
// `refreshTokens: false` (default true) makes a registration whose client never gets a refresh
// token: `offline_access` is silently dropped from its requests, as some providers do, and the
// refresh_token grant is not allowed for it (invalid_request).
//
// `dpop` (default false) only matters when the IdP speaks DPoP (startIdp({ dpop })): `true` makes
// the client's token requests need a DPoP proof (dpop_bound_access_tokens) and binds its access
// and refresh tokens to the proof's key; `'refresh-token'` needs the proof too but binds only the
// refresh token, its access tokens staying Bearer tokens. Without `dpop` a client may still send
// proofs (its tokens are then bound), as with any DPoP-capable provider.

export const DEFAULT_TENANT = '7f3c9b2e-4d1a-4c8e-9b6f-2a5d8e1c0f43';

/** App ids (`aud`) of the Azure TRE workspace registrations; the dev API's TRE_WORKSPACES uses them. */
export const TRE_WORKSPACE_ALPHA = '43d6845f-d5ad-4150-ad74-8c24f34f2b4b';
export const TRE_WORKSPACE_BETA = '5df32cf4-488f-47c8-8ca0-21ec69108b8f';

/** StudyBuilder's test users; the DPoP registrations have the same people and roles. */
const STUDYBUILDER_USERS = [
  {
    username: 'reader@studybuilder.test',
    password: 'reader-pass',
    name: 'Rita Reader',
    email: 'reader@studybuilder.test',
    oid: '0b7c1f8e-2a4d-4e6b-9c1a-5d3f7e9b2c01',
    roles: ['Study.Read', 'Library.Read'],
    jobTitle: 'Clinical Data Reviewer',
    photo: true,
  },
  {
    username: 'librarian@studybuilder.test',
    password: 'librarian-pass',
    name: 'Liam Librarian',
    email: 'librarian@studybuilder.test',
    oid: '1c8d2a9f-3b5e-4f7c-8d2b-6e4a8f0c3d12',
    roles: ['Study.Read', 'Library.Write', 'Library.Read'],
    jobTitle: 'Standards Librarian',
    photo: false,
  },
  {
    username: 'author@studybuilder.test',
    password: 'author-pass',
    name: 'Ada Author',
    email: 'author@studybuilder.test',
    oid: '2d9e3b0a-4c6f-4a8d-9e3c-7f5b9a1d4e23',
    roles: ['Study.Write', 'Study.Read', 'Library.Read'],
    jobTitle: 'Study Designer',
    photo: false,
  },
  {
    username: 'super@studybuilder.test',
    password: 'super-pass',
    name: 'Sam Superuser',
    email: 'super@studybuilder.test',
    oid: '3e0f4c1b-5d7a-4b9e-8f4d-8a6c0b2e5f34',
    roles: ['Study.Write', 'Library.Write', 'Study.Read', 'Library.Read'],
    jobTitle: 'StudyBuilder Administrator',
    photo: false,
  },
  {
    username: 'norole@studybuilder.test',
    password: 'norole-pass',
    name: 'Nora Noroles',
    email: 'norole@studybuilder.test',
    oid: '4f1a5d2c-6e8b-4c0f-9a5e-9b7d1c3f6a45',
    roles: [],
    jobTitle: null,
    photo: false,
  },
];

export const registrations = [
  {
    name: 'StudyBuilder',
    clientId: '5d2a8f4c-9e1b-4a7d-8c3f-6b0e2d9a1c57',
    apiAppId: 'd3e62185-f259-4d5b-8a8c-a9134fd34d47',
    // apiAppIdUri defaults to `api://${apiAppId}`
    scopes: ['API.call'],
    users: STUDYBUILDER_USERS,
  },
  {
    // Azure TRE: the "TRE API" registration exposes `user_impersonation` and the app roles
    // TREAdmin and TREUser (Users/Groups, Applications).
    name: 'Azure TRE',
    clientId: 'af08e0e9-df58-4879-a561-23f33139a170',
    apiAppId: 'cde51ab4-1208-48fa-b32b-c2f6311ae8d4',
    scopes: ['user_impersonation'],
    // Each TRE workspace has its own app registration exposing `user_impersonation`, with the app
    // roles WorkspaceOwner and WorkspaceResearcher. The TRE UI calls
    // /api/workspaces/{id}/... on the TRE API with a token for the workspace's scope
    // (`api://<workspace app id>/user_impersonation`), so `aud` is the workspace's app id.
    apis: [
      {
        name: 'TRE workspace alpha',
        appId: TRE_WORKSPACE_ALPHA,
        scopes: ['user_impersonation'],
        roles: {
          'admin@tre.test': ['WorkspaceOwner'],
          'user@tre.test': ['WorkspaceResearcher'],
        },
      },
      {
        // Ursula (user@tre.test) can get a token for beta but holds no role there; Tomas
        // (admin@tre.test) owns beta but has not consented to it yet.
        name: 'TRE workspace beta',
        appId: TRE_WORKSPACE_BETA,
        scopes: ['user_impersonation'],
        roles: {
          'admin@tre.test': ['WorkspaceOwner'],
        },
        unconsented: ['admin@tre.test'],
      },
    ],
    // Nils (norole@tre.test) has not consented to Microsoft Graph.
    graph: { unconsented: ['norole@tre.test'] },
    users: [
      {
        username: 'admin@tre.test',
        password: 'tre-admin-pass',
        name: 'Tomas Admin',
        email: 'admin@tre.test',
        oid: 'fef3f726-ffa1-4e82-b509-af3fd0ae06e3',
        roles: ['TREAdmin'],
        jobTitle: 'TRE Administrator',
        photo: true,
      },
      {
        username: 'user@tre.test',
        password: 'tre-user-pass',
        name: 'Ursula User',
        email: 'user@tre.test',
        oid: '3fd4b8d5-cbea-4c45-9765-3938c9cc4c51',
        roles: ['TREUser'],
        jobTitle: 'Research Scientist',
        photo: false,
      },
      {
        // Her Graph photo is an SVG that carries a script and a link: a client must not show
        // it as her picture.
        username: 'vector@tre.test',
        password: 'tre-vector-pass',
        name: 'Vera Vector',
        email: 'vector@tre.test',
        oid: '8b2f5c1e-6d4a-4f3b-9c7e-1a2d3e4f5a6b',
        roles: ['TREUser'],
        jobTitle: 'Visualisation Engineer',
        photo: 'svg',
      },
      {
        username: 'norole@tre.test',
        password: 'tre-norole-pass',
        name: 'Nils Noroles',
        email: 'norole@tre.test',
        oid: '130f0284-ecae-4c21-8c7e-3ad3349440a5',
        roles: [],
        jobTitle: null,
        photo: false,
      },
    ],
  },
  {
    // Influxion: the "Influxion API" registration exposes `access_as_user` and defines no app
    // roles; the API checks audience and scope only.
    name: 'Influxion',
    clientId: '6843309f-0b53-47d2-8170-f8a54814aeb5',
    apiAppId: '7e8fa8bc-c050-48e0-8d7d-7502209f429a',
    scopes: ['access_as_user'],
    users: [
      {
        username: 'user@influxion.test',
        password: 'influxion-pass',
        name: 'Ines Influxion',
        email: 'user@influxion.test',
        oid: '2ccd0d84-4d08-48c8-8839-77182510f9ae',
        roles: [],
        jobTitle: 'Data Engineer',
        photo: true,
      },
    ],
  },
  {
    // DESTINY repository, with the published ids of its development environment (client
    // 0fde62ae-…, application 0a4b8df7-…). Clients request `api://<application-id>/.default`,
    // which grants all the delegated scopes below (named as in DESTINY's registration); the
    // permissions DESTINY calls reference.reader and import.writer are app roles, assigned to
    // users here so that they appear in the access token's `roles` claim.
    name: 'DESTINY',
    clientId: '0fde62ae-2203-44a5-9722-73e965325ae7',
    apiAppId: '0a4b8df7-5c97-42b2-be07-2bb25e06dbb2',
    scopes: ['reference.reader.all', 'import.writer.all'],
    users: [
      {
        username: 'reader@destiny.test',
        password: 'destiny-reader-pass',
        name: 'Rosa Reader',
        email: 'reader@destiny.test',
        oid: '146360a1-2c10-451e-b54b-687004c784ff',
        roles: ['reference.reader'],
        jobTitle: 'Evidence Synthesis Researcher',
        photo: true,
      },
      {
        username: 'importer@destiny.test',
        password: 'destiny-importer-pass',
        name: 'Ivo Importer',
        email: 'importer@destiny.test',
        oid: 'cd02f489-264d-4b5b-bf18-c0f7bce1fee3',
        roles: ['reference.reader', 'import.writer'],
        jobTitle: 'Data Importer',
        photo: false,
      },
      {
        username: 'norole@destiny.test',
        password: 'destiny-norole-pass',
        name: 'Noor Noroles',
        email: 'norole@destiny.test',
        oid: 'a14f0a89-0a3a-4270-8e72-c58c34207e3e',
        roles: [],
        jobTitle: null,
        photo: false,
      },
    ],
  },
  {
    // An app whose sign-ins never give a refresh token (offline_access is dropped), so that a
    // session without one can be shown: it lasts as long as its access token, and is renewed
    // only by a new (silent, prompt=none) authorization request.
    name: 'No refresh',
    clientId: '4cd313ad-d207-49e1-8af7-f183d7220a63',
    apiAppId: '3b993f16-b16c-457d-8ec9-ba568322e337',
    scopes: ['access_as_user'],
    refreshTokens: false,
    users: [
      {
        username: 'reader@norefresh.test',
        password: 'norefresh-reader-pass',
        name: 'Nell Reader',
        email: 'reader@norefresh.test',
        oid: 'b53e0025-42ed-409f-8dc8-d3742ac1f78d',
        roles: ['Data.Read'],
        jobTitle: 'Analyst',
        photo: false,
      },
      {
        username: 'writer@norefresh.test',
        password: 'norefresh-writer-pass',
        name: 'Noah Writer',
        email: 'writer@norefresh.test',
        oid: '39ddce2f-2d5d-4976-8d39-3db1a82fb892',
        roles: ['Data.Read', 'Data.Write'],
        jobTitle: null,
        photo: false,
      },
    ],
  },
  {
    // StudyBuilder again, as a client that must use DPoP (RFC 9449) when the IdP speaks it
    // (startIdp({ dpop })): access and refresh tokens bound to the client's key. Same people and
    // roles as StudyBuilder, its own client and API ids, so that the app and the dev API can be
    // set up for it as for StudyBuilder. With DPoP off it is an ordinary Bearer registration.
    name: 'StudyBuilder DPoP',
    clientId: '8a1e6f3b-2c7d-4e95-b0a4-5f9c3d7e1b26',
    apiAppId: 'c47b2e19-8d3a-4f60-9e1c-2b5a7d9f0e38',
    scopes: ['API.call'],
    dpop: true,
    users: STUDYBUILDER_USERS,
  },
  {
    // The same with only the refresh token bound to the key: its access tokens are Bearer tokens
    // (token_type Bearer, no cnf), as RFC 9449 §5 allows for resources without DPoP.
    name: 'StudyBuilder DPoP refresh only',
    clientId: 'e29d4b7a-6f1c-4a38-8e5d-0c3b9a2f7d14',
    apiAppId: '5b8c1d6e-3a9f-4e27-b4d0-7e2f6a1c9b53',
    scopes: ['API.call'],
    dpop: 'refresh-token',
    users: STUDYBUILDER_USERS,
  },
];

/** Fill in defaults and sanity-check the registration list. */
export function normaliseRegistrations(list = registrations) {
  const seenClients = new Set();
  const seenUris = new Set();
  const claimUri = (uri, what) => {
    if (seenUris.has(uri)) throw new Error(`duplicate app ID URI ${uri} (${what})`);
    seenUris.add(uri);
  };
  return list.map((r) => {
    for (const key of ['name', 'clientId', 'apiAppId']) {
      if (!r[key]) throw new Error(`registration is missing ${key}: ${JSON.stringify(r)}`);
    }
    const apiAppIdUri = r.apiAppIdUri || `api://${r.apiAppId}`;
    if (seenClients.has(r.clientId)) throw new Error(`duplicate clientId ${r.clientId}`);
    seenClients.add(r.clientId);
    claimUri(apiAppIdUri, r.name);
    const usernames = new Set();
    const users = (r.users || []).map((u) => {
      for (const key of ['username', 'password', 'name', 'oid']) {
        if (!u[key]) throw new Error(`user in ${r.name} is missing ${key}`);
      }
      const lower = u.username.toLowerCase();
      if (usernames.has(lower)) throw new Error(`duplicate username ${u.username} in ${r.name}`);
      usernames.add(lower);
      return {
        email: u.username, roles: [], jobTitle: null, photo: false, ...u,
      };
    });
    // Usernames in role maps and consent lists must name users of this registration: a typo
    // would otherwise silently drop a role or a missing consent.
    const known = (username, where) => {
      if (!usernames.has(String(username).toLowerCase())) {
        throw new Error(`${where} in ${r.name} names unknown user ${username}`);
      }
      return username;
    };
    const apis = (r.apis || []).map((a) => {
      for (const key of ['name', 'appId']) {
        if (!a[key]) throw new Error(`API in ${r.name} is missing ${key}: ${JSON.stringify(a)}`);
      }
      if (!a.scopes?.length) throw new Error(`API ${a.name} in ${r.name} has no scopes`);
      const appIdUri = a.appIdUri || `api://${a.appId}`;
      claimUri(appIdUri, `${r.name}: ${a.name}`);
      const roles = Object.fromEntries(Object.entries(a.roles || {})
        .map(([username, list]) => [known(username, `roles of ${a.name}`), [...list]]));
      const unconsented = (a.unconsented || []).map((n) => known(n, `unconsented of ${a.name}`));
      return {
        name: a.name, appId: a.appId, appIdUri, scopes: [...a.scopes], roles, unconsented,
      };
    });
    const graph = {
      unconsented: (r.graph?.unconsented || []).map((n) => known(n, 'graph.unconsented')),
    };
    if (r.refreshTokens !== undefined && typeof r.refreshTokens !== 'boolean') {
      throw new Error(`refreshTokens of ${r.name} must be true or false`);
    }
    if (![undefined, false, true, 'refresh-token'].includes(r.dpop)) {
      throw new Error(`dpop of ${r.name} must be true, false or 'refresh-token'`);
    }
    return {
      ...r, apiAppIdUri, scopes: [...(r.scopes || [])], users, apis, graph,
      refreshTokens: r.refreshTokens !== false,
      dpop: r.dpop ?? false,
    };
  });
}
