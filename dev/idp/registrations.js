// Entra ID app registrations served by the development identity provider.
//
// Each entry models one pair of Entra app registrations:
//   * the single-page application (public client, `clientId`), and
//   * the API it calls (`apiAppId`, exposed as `apiAppIdUri`, default `api://<apiAppId>`),
//     with its delegated scopes (`scopes`) and the app-role assignments of each test user.
//
// Add another system by appending an entry to `registrations`. Passwords are deliberately
// simple and public: this provider is for local development and tests only.
//
// User fields: username (UPN, becomes preferred_username), password, name (display name),
// email, oid (stable object id GUID), roles (app roles assigned on the API app; an empty list
// means the `roles` claim is omitted, as Entra does).

export const DEFAULT_TENANT = '7f3c9b2e-4d1a-4c8e-9b6f-2a5d8e1c0f43';

export const registrations = [
  {
    name: 'StudyBuilder',
    clientId: '5d2a8f4c-9e1b-4a7d-8c3f-6b0e2d9a1c57',
    apiAppId: 'd3e62185-f259-4d5b-8a8c-a9134fd34d47',
    // apiAppIdUri defaults to `api://${apiAppId}`
    scopes: ['API.call'],
    users: [
      {
        username: 'reader@studybuilder.test',
        password: 'reader-pass',
        name: 'Rita Reader',
        email: 'reader@studybuilder.test',
        oid: '0b7c1f8e-2a4d-4e6b-9c1a-5d3f7e9b2c01',
        roles: ['Study.Read', 'Library.Read'],
      },
      {
        username: 'librarian@studybuilder.test',
        password: 'librarian-pass',
        name: 'Liam Librarian',
        email: 'librarian@studybuilder.test',
        oid: '1c8d2a9f-3b5e-4f7c-8d2b-6e4a8f0c3d12',
        roles: ['Study.Read', 'Library.Write', 'Library.Read'],
      },
      {
        username: 'author@studybuilder.test',
        password: 'author-pass',
        name: 'Ada Author',
        email: 'author@studybuilder.test',
        oid: '2d9e3b0a-4c6f-4a8d-9e3c-7f5b9a1d4e23',
        roles: ['Study.Write', 'Study.Read', 'Library.Read'],
      },
      {
        username: 'super@studybuilder.test',
        password: 'super-pass',
        name: 'Sam Superuser',
        email: 'super@studybuilder.test',
        oid: '3e0f4c1b-5d7a-4b9e-8f4d-8a6c0b2e5f34',
        roles: ['Study.Write', 'Library.Write', 'Study.Read', 'Library.Read'],
      },
      {
        username: 'norole@studybuilder.test',
        password: 'norole-pass',
        name: 'Nora Noroles',
        email: 'norole@studybuilder.test',
        oid: '4f1a5d2c-6e8b-4c0f-9a5e-9b7d1c3f6a45',
        roles: [],
      },
    ],
  },
  {
    // Azure TRE: the "TRE API" registration exposes `user_impersonation` and the app roles
    // TREAdmin and TREUser (Users/Groups, Applications).
    name: 'Azure TRE',
    clientId: 'af08e0e9-df58-4879-a561-23f33139a170',
    apiAppId: 'cde51ab4-1208-48fa-b32b-c2f6311ae8d4',
    scopes: ['user_impersonation'],
    users: [
      {
        username: 'admin@tre.test',
        password: 'tre-admin-pass',
        name: 'Tomas Admin',
        email: 'admin@tre.test',
        oid: 'fef3f726-ffa1-4e82-b509-af3fd0ae06e3',
        roles: ['TREAdmin'],
      },
      {
        username: 'user@tre.test',
        password: 'tre-user-pass',
        name: 'Ursula User',
        email: 'user@tre.test',
        oid: '3fd4b8d5-cbea-4c45-9765-3938c9cc4c51',
        roles: ['TREUser'],
      },
      {
        username: 'norole@tre.test',
        password: 'tre-norole-pass',
        name: 'Nils Noroles',
        email: 'norole@tre.test',
        oid: '130f0284-ecae-4c21-8c7e-3ad3349440a5',
        roles: [],
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
      },
      {
        username: 'importer@destiny.test',
        password: 'destiny-importer-pass',
        name: 'Ivo Importer',
        email: 'importer@destiny.test',
        oid: 'cd02f489-264d-4b5b-bf18-c0f7bce1fee3',
        roles: ['reference.reader', 'import.writer'],
      },
      {
        username: 'norole@destiny.test',
        password: 'destiny-norole-pass',
        name: 'Noor Noroles',
        email: 'norole@destiny.test',
        oid: 'a14f0a89-0a3a-4270-8e72-c58c34207e3e',
        roles: [],
      },
    ],
  },
];

/** Fill in defaults and sanity-check the registration list. */
export function normaliseRegistrations(list = registrations) {
  const seenClients = new Set();
  const seenUris = new Set();
  return list.map((r) => {
    for (const key of ['name', 'clientId', 'apiAppId']) {
      if (!r[key]) throw new Error(`registration is missing ${key}: ${JSON.stringify(r)}`);
    }
    const apiAppIdUri = r.apiAppIdUri || `api://${r.apiAppId}`;
    if (seenClients.has(r.clientId)) throw new Error(`duplicate clientId ${r.clientId}`);
    if (seenUris.has(apiAppIdUri)) throw new Error(`duplicate apiAppIdUri ${apiAppIdUri}`);
    seenClients.add(r.clientId);
    seenUris.add(apiAppIdUri);
    const usernames = new Set();
    const users = (r.users || []).map((u) => {
      for (const key of ['username', 'password', 'name', 'oid']) {
        if (!u[key]) throw new Error(`user in ${r.name} is missing ${key}`);
      }
      const lower = u.username.toLowerCase();
      if (usernames.has(lower)) throw new Error(`duplicate username ${u.username} in ${r.name}`);
      usernames.add(lower);
      return { email: u.username, roles: [], ...u };
    });
    return { ...r, apiAppIdUri, scopes: [...(r.scopes || [])], users };
  });
}
