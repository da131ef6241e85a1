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
  // Later (seed systems), e.g.:
  // { name: 'Azure TRE', clientId: '…', apiAppId: '…', scopes: ['user_impersonation'],
  //   users: [{ …, roles: ['TREAdmin'] }, { …, roles: ['TREUser'] }] },
  // { name: 'Influxion', …, scopes: ['access_as_user'], … },
  // { name: 'DESTINY', …, scopes: ['reference.reader'], … }  // clients request `<uri>/.default`
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
