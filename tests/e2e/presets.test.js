// End to end, per configuration preset (public/presets/<system>.json): the preset, pointed at the
// local stack (the IdP's registration emulating that system and the test API accepting its
// audience), signs each of the system's test users in, shows their roles, enables or disables the
// system's views by role, and obtains an access token for that system's API and scope that the
// API accepts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { registrations } from '../../dev/idp/registrations.js';
import { finish } from './browser.js';
import { grantsAny, useStack } from './fixture.js';

const preset = (system) => JSON.parse(
  readFileSync(new URL(`../../public/presets/${system}.json`, import.meta.url), 'utf8'),
);
const registration = (name) => {
  const found = registrations.find((r) => r.name === name);
  assert.ok(found, `registration ${name} in dev/idp/registrations.js`);
  return found;
};

// system (preset file) → IdP registration, the `scp` its access tokens carry, and the user whose
// `me` call is checked against the API.
const SYSTEMS = [
  { system: 'studybuilder', registration: 'StudyBuilder', scp: 'API.call', meUser: 'reader@studybuilder.test' },
  { system: 'azure-tre', registration: 'Azure TRE', scp: 'user_impersonation', meUser: 'user@tre.test' },
  { system: 'influxion', registration: 'Influxion', scp: 'access_as_user', meUser: 'user@influxion.test' },
  // `.default` grants every delegated scope of the API.
  { system: 'destiny', registration: 'DESTINY', scp: 'reference.reader.all import.writer.all', meUser: 'reader@destiny.test' },
];

const reason = (any) => (any.length === 1 ? `requires ${any[0]}` : `requires one of ${any.join(', ')}`);

const decodeJwt = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

/**
 * The preset pointed at the local stack: ids from the registration, the stack's IdP, API and
 * Graph. A preset's other API (`RESOURCES`) is the registration's first extra API, served by the
 * local API under /api; `<workspace-id>` in view paths is that API's name's last word.
 */
function localConfig(p, reg, { idp, apiUrl }) {
  const {
    OAUTH_METADATA_URL: _metadata, API_BASE_URL: _api, OAUTH_UI_APP_ID: _ui, OAUTH_API_APP_ID: apiAppId,
    ...rest
  } = p;
  const config = { ...rest, OAUTH_UI_APP_ID: reg.clientId, OAUTH_API_APP_ID: reg.apiAppId };
  if (rest.OAUTH_API_APP_ID_URI) {
    config.OAUTH_API_APP_ID_URI = rest.OAUTH_API_APP_ID_URI.replace(apiAppId, reg.apiAppId);
  }
  if (rest.RESOURCES) {
    const api = reg.apis[0];
    config.RESOURCES = rest.RESOURCES.map((r) => ({ ...r, app_id_uri: `api://${api.appId}`, base_url: `${apiUrl}/api` }));
    const workspace = api.name.split(' ').at(-1);
    config.VIEWS = rest.VIEWS.map((v) => ({ ...v, path: v.path.replace('<workspace-id>', workspace) }));
  }
  if (rest.GRAPH_PROFILE) config.GRAPH_BASE_URL = idp.graphUrl;
  return config;
}

/** The roles `user` holds on the API a view calls (the main API, or the registration's extra API). */
const rolesFor = (reg, user, view) => (view.resource ? reg.apis[0].roles[user.username] ?? [] : user.roles);

describe('presets are complete configurations', () => {
  for (const { system } of SYSTEMS) {
    test(`${system}.json`, () => {
      const p = preset(system);
      for (const key of ['OAUTH_METADATA_URL', 'OAUTH_UI_APP_ID', 'OAUTH_API_APP_ID', 'OAUTH_SCOPES',
        'OAUTH_ROLES_CLAIM', 'API_BASE_URL', 'API_NAME']) {
        assert.equal(typeof p[key], 'string', `${system}: ${key}`);
        assert.ok(p[key].trim(), `${system}: ${key} is set`);
      }
      assert.match(p.OAUTH_METADATA_URL,
        /^https:\/\/login\.microsoftonline\.com\/[^/]+\/v2\.0\/\.well-known\/openid-configuration\?appid=/);
      assert.ok(p.OAUTH_METADATA_URL.endsWith(`?appid=${p.OAUTH_API_APP_ID}`), `${system}: appid is the API`);
      const ids = new Set();
      for (const v of p.VIEWS) {
        assert.match(v.id, /^[A-Za-z0-9_-]+$/);
        assert.ok(!ids.has(v.id), `${system}: view id ${v.id} used once`);
        ids.add(v.id);
        assert.ok(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(v.method), `${system}: ${v.id} method`);
        assert.match(v.path, /^\/(?!\/)/, `${system}: ${v.id} path`);
        assert.ok(Array.isArray(v.roles), `${system}: ${v.id} roles`);
        assert.ok(v.title && v.description, `${system}: ${v.id} title and description`);
        for (const k of Object.keys(v)) {
          assert.ok(['id', 'title', 'method', 'path', 'roles', 'description', 'body', 'resource'].includes(k), `${system}: ${v.id}.${k}`);
        }
      }
      const me = p.VIEWS.find((v) => v.id === 'me');
      assert.deepEqual({ method: me?.method, path: me?.path, roles: me?.roles }, { method: 'GET', path: '/me', roles: [] });
    });
  }

  test("studybuilder's views are those of the default config.json", () => {
    const defaults = JSON.parse(readFileSync(new URL('../../public/config.json', import.meta.url), 'utf8'));
    assert.deepEqual(preset('studybuilder').VIEWS, defaults.VIEWS);
  });
});

for (const { system, registration: regName, scp, meUser } of SYSTEMS) {
  describe(`preset ${system}`, () => {
    const reg = registration(regName);
    const p = preset(system);
    const ctx = useStack({
      registration: { clientId: reg.clientId, apiAppId: reg.apiAppId },
      config: (stack) => localConfig(p, reg, stack),
    });

    test(`${meUser} is a ${regName} user`, () => {
      assert.ok(reg.users.some((u) => u.username === meUser));
    });

    for (const user of reg.users) {
      const roles = [...user.roles].sort();
      test(`${user.username} (${roles.join(', ') || 'no roles'})`, async () => {
        const { page, app } = await ctx.newApp();
        await app.signIn(user);
        assert.ok((await app.userName()).includes(user.name), 'the user menu shows the name');

        // The access token is for this system's API (audience) and scope.
        const { access_token: accessToken } = await app.storedSession();
        const claims = decodeJwt(accessToken);
        assert.equal(claims.aud, reg.apiAppId);
        assert.equal(claims.scp, scp);
        assert.equal(claims.azp, reg.clientId);
        assert.deepEqual([...(claims.roles ?? [])].sort(), roles);

        await app.openProfile();
        assert.deepEqual((await app.roles()).sort(), roles);
        if (roles.length === 0) await app.testId('profile-no-roles').waitFor();
        assert.equal(await app.testId('profile-scopes').innerText(), scp);
        // Opening the profile fetches the other APIs' tokens; wait until their roles are known.
        for (const resource of p.RESOURCES ?? []) {
          const group = page.locator(`[data-testid=profile-resource][data-resource=${resource.id}]`);
          await group.filter({ hasNotText: 'Not known yet' }).waitFor();
          const held = [...(reg.apis[0].roles[user.username] ?? [])].sort();
          assert.deepEqual((await group.getByTestId('profile-resource-role').allInnerTexts()).sort(), held);
        }
        await page.keyboard.press('Escape');
        await app.testId('profile-panel').waitFor({ state: 'detached' });

        const names = Object.fromEntries((p.RESOURCES ?? []).map((r) => [r.id, r.name]));
        for (const view of p.VIEWS) {
          const entry = app.testId(`view-${view.id}`);
          if (grantsAny(rolesFor(reg, user, view), view.roles)) {
            assert.equal(await entry.evaluate((e) => e.tagName), 'A', `${view.id} is a link`);
          } else {
            const labels = view.resource ? view.roles.map((r) => `${names[view.resource]}: ${r}`) : view.roles;
            assert.equal(await entry.getAttribute('aria-disabled'), 'true', `${view.id} is disabled`);
            assert.equal(await entry.getAttribute('data-reason'), reason(labels), `${view.id} reason`);
          }
        }

        if (user.username === meUser) {
          const call = page.waitForRequest((r) => r.url() === `${ctx.stack.apiUrl}/me` && r.method() === 'GET');
          await app.testId('view-me').click();
          assert.equal((await (await call).allHeaders()).authorization, `Bearer ${accessToken}`);
          await app.testId('api-status').waitFor();
          assert.equal(await app.testId('api-status').innerText(), '200');
          const result = await app.testId('api-result').innerText();
          assert.ok(result.includes(user.username), `the API saw ${user.username}:\n${result}`);
          assert.ok(result.includes(reg.apiAppId), 'the API reports the audience');
          for (const s of scp.split(' ')) assert.ok(result.includes(s), `the API reports the scope ${s}`);

          // A view on the preset's other API: the same sign-in, that API's own token.
          for (const view of p.VIEWS.filter((v) => v.resource && grantsAny(rolesFor(reg, user, v), v.roles))) {
            const other = page.waitForRequest((r) => r.url().startsWith(`${ctx.stack.apiUrl}/api/workspaces/`));
            await app.testId(`view-${view.id}`).click();
            const bearer = (await (await other).allHeaders()).authorization.replace(/^Bearer /, '');
            assert.equal(decodeJwt(bearer).aud, reg.apis[0].appId, `${view.id}: the workspace's token`);
            await app.testId('api-status').filter({ hasText: '200' }).waitFor();
          }
        }
        assert.deepEqual(page.problems, []);
        await finish(page);
      });
    }
  });
}
