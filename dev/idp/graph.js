// A small Microsoft Graph emulation served at the identity provider's origin, under /graph/v1.0.
//
//   GET /graph/v1.0/me                 the signed-in user (`$select` supported)
//   GET /graph/v1.0/me/photo           the photo's metadata
//   GET /graph/v1.0/me/photo/$value    the photo itself (PNG); 404 ImageNotFound without one
//
// Every request needs a bearer token this provider issued for Graph: RS256 with its own key,
// `aud` Graph's app id, Graph's v1 issuer (`https://sts.windows.net/<tenant>/`), within its
// lifetime, and `scp` containing User.Read. Errors use Graph's JSON shape
// (`{"error":{"code","message","innerError"}}`). Browsers of the configured app origins may call
// it cross-origin (CORS, with preflight).

import * as crypto from 'node:crypto';

import { avatarPng, PHOTO_SIZE } from './photo.js';
import { GRAPH, graphIssuer } from './resources.js';

/** Clock skew allowed for `exp` and `nbf`, seconds. */
const LEEWAY_SECONDS = 30;

// Graph's content type for JSON answers.
const GRAPH_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

// The user properties /me returns (Graph's default set) and $select may name.
const USER_PROPERTIES = [
  'businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone',
  'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id',
];

class GraphError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const unauthorized = (message) => new GraphError(401, 'InvalidAuthenticationToken', message);

function graphUser(user) {
  const [givenName, ...rest] = user.name.split(' ');
  return {
    businessPhones: [],
    displayName: user.name,
    givenName: givenName || null,
    jobTitle: user.jobTitle ?? null,
    mail: user.email ?? null,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: rest.join(' ') || null,
    userPrincipalName: user.username,
    id: user.oid,
  };
}

/** A user's photo that is no picture: an SVG document with a script and a link in it. */
const HOSTILE_SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96">'
  + '<script>window.__photoScriptRan = true</script>'
  + '<a href="https://evil.example/"><rect width="96" height="96" fill="red"/></a></svg>',
);

/** The media type Graph gives a user's photo. */
const photoType = (user) => (user.photo === 'svg' ? 'image/svg+xml' : 'image/png');

/**
 * The Graph emulation.
 *
 * @param {object} options
 * @param {string} options.origin the provider's origin, e.g. http://127.0.0.1:8090
 * @param {string} options.tenant tenant GUID
 * @param {string[]} options.appOrigins origins allowed by CORS
 * @param {crypto.KeyObject} options.publicKey the provider's signing key (public half)
 * @param {string} options.kid that key's id
 * @param {(oid: string) => object | undefined} options.findUser any user of any registration
 * @param {string} options.authorizeUrl the authorization endpoint, named in 401 challenges
 */
export function createGraph({
  origin, tenant, appOrigins, publicKey, kid, findUser, authorizeUrl,
}) {
  const baseUrl = `${origin}/graph/v1.0`;
  const issuer = graphIssuer(tenant);
  const photos = new Map();
  const photoOf = (user) => {
    if (!photos.has(user.oid)) {
      const bytes = user.photo === 'svg' ? HOSTILE_SVG : avatarPng(user.oid);
      const etag = crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 32);
      photos.set(user.oid, { bytes, etag: `W/"${etag}"` });
    }
    return photos.get(user.oid);
  };

  /** The claims of a valid Graph token in `authorization`, or a GraphError. */
  function authenticate(authorization) {
    const [scheme, token, extra] = String(authorization ?? '').trim().split(/\s+/);
    if (!/^bearer$/i.test(scheme ?? '') || !token || extra) throw unauthorized('Access token is empty.');
    const parts = token.split('.');
    if (parts.length !== 3) throw unauthorized('CompactToken parsing failed with error code: 80049217');
    let header;
    let claims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
    } catch {
      throw unauthorized('CompactToken parsing failed with error code: 80049217');
    }
    const signed = header?.alg === 'RS256' && header.kid === kid && crypto.verify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      publicKey,
      Buffer.from(parts[2], 'base64url'),
    );
    if (!signed) throw unauthorized('Access token validation failure.');
    // Audience first: a token for another API is the likeliest mistake, and Graph names it.
    if (![GRAPH.appId, GRAPH.appIdUri, `${GRAPH.appIdUri}/`].includes(claims.aud)) {
      throw unauthorized('Access token validation failure. Invalid audience.');
    }
    if (claims.iss !== issuer) throw unauthorized('Access token validation failure. Invalid issuer.');
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp + LEEWAY_SECONDS < now
      || (typeof claims.nbf === 'number' && claims.nbf - LEEWAY_SECONDS > now)) {
      throw unauthorized('Lifetime validation failed, the token is expired.');
    }
    const scp = String(claims.scp ?? '').split(' ').map((s) => s.toLowerCase());
    if (!scp.includes('user.read')) {
      throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    }
    return claims;
  }

  const corsHeaders = (req) => {
    const requestOrigin = req.headers.origin;
    if (!requestOrigin || !appOrigins.includes(requestOrigin)) return { vary: 'Origin' };
    return {
      vary: 'Origin',
      'access-control-allow-origin': requestOrigin,
      'access-control-expose-headers': 'request-id, client-request-id, WWW-Authenticate, ETag',
    };
  };

  const requestIds = (req) => {
    const sent = req.headers['client-request-id'];
    return {
      'request-id': crypto.randomUUID(),
      'client-request-id': typeof sent === 'string' && /^[\w-]{1,64}$/.test(sent) ? sent : crypto.randomUUID(),
    };
  };

  function sendJson(req, res, status, body, extraHeaders = {}) {
    const ids = requestIds(req);
    const payload = status >= 400
      ? {
        error: {
          ...body.error,
          innerError: {
            date: new Date().toISOString().slice(0, 19),
            'request-id': ids['request-id'],
            'client-request-id': ids['client-request-id'],
          },
        },
      }
      : body;
    res.writeHead(status, {
      'content-type': GRAPH_JSON,
      'cache-control': 'no-cache',
      ...ids,
      ...corsHeaders(req),
      ...extraHeaders,
    });
    res.end(JSON.stringify(payload));
  }

  function sendError(req, res, err) {
    const headers = err.status === 401
      ? {
        'www-authenticate': `Bearer realm="", authorization_uri="${authorizeUrl}", client_id="${GRAPH.appId}"`,
      }
      : {};
    sendJson(req, res, err.status, { error: { code: err.code, message: err.message } }, headers);
  }

  function me(url, user) {
    const select = url.searchParams.get('$select');
    const all = graphUser(user);
    if (!select) {
      return { '@odata.context': `${baseUrl}/$metadata#users/$entity`, ...all };
    }
    const wanted = select.split(',').map((s) => s.trim()).filter(Boolean);
    const picked = {};
    for (const name of wanted) {
      const known = USER_PROPERTIES.find((p) => p.toLowerCase() === name.toLowerCase());
      if (!known) {
        throw new GraphError(400, 'BadRequest', `Could not find a property named '${name}' on type 'microsoft.graph.user'.`);
      }
      picked[known] = all[known];
    }
    return { '@odata.context': `${baseUrl}/$metadata#users(${Object.keys(picked).join(',')})/$entity`, ...picked };
  }

  function photoMetadata(user) {
    const { etag } = photoOf(user);
    return {
      '@odata.context': `${baseUrl}/$metadata#users('${user.oid}')/photo/$entity`,
      '@odata.mediaContentType': photoType(user),
      '@odata.mediaEtag': etag,
      id: `${PHOTO_SIZE}X${PHOTO_SIZE}`,
      height: PHOTO_SIZE,
      width: PHOTO_SIZE,
    };
  }

  const imageNotFound = () => new GraphError(404, 'ImageNotFound', 'Exception of type \'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException\' was thrown.');

  /**
   * Serves a request whose path starts with /graph/. Answers every such request itself.
   *
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   * @param {URL} url the parsed request URL
   */
  function handle(req, res, url) {
    try {
      if (req.method === 'OPTIONS') {
        const headers = corsHeaders(req);
        if (headers['access-control-allow-origin'] && req.headers['access-control-request-method']) {
          headers['access-control-allow-methods'] = 'GET, OPTIONS';
          headers['access-control-allow-headers'] = req.headers['access-control-request-headers']
            ?? 'Authorization';
          headers['access-control-max-age'] = '600';
        }
        res.writeHead(204, headers);
        res.end();
        return;
      }
      const [version, ...segments] = url.pathname.slice('/graph/'.length).split('/');
      if (version !== 'v1.0') throw new GraphError(400, 'BadRequest', `Invalid version: ${version}`);
      const claims = authenticate(req.headers.authorization);
      const user = findUser(claims.oid);
      if (!user) {
        throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${claims.oid}' does not exist or one of its queried reference-property objects are not present.`);
      }
      const route = segments.join('/');
      if (!['me', 'me/photo', 'me/photo/$value'].includes(route)) {
        // Graph names the first path segment it does not know.
        const unknown = segments.find((s, i) => s !== ['me', 'photo', '$value'][i]) ?? route;
        throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${unknown}'.`);
      }
      if (req.method !== 'GET') {
        throw new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
      }
      if (route === 'me') {
        sendJson(req, res, 200, me(url, user));
        return;
      }
      if (!user.photo) throw imageNotFound();
      if (route === 'me/photo') {
        sendJson(req, res, 200, photoMetadata(user));
        return;
      }
      const { bytes, etag } = photoOf(user);
      res.writeHead(200, {
        'content-type': photoType(user),
        'content-length': bytes.length,
        etag,
        'cache-control': 'no-cache',
        ...requestIds(req),
        ...corsHeaders(req),
      });
      res.end(bytes);
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      sendError(req, res, err);
    }
  }

  return { baseUrl, handle };
}
