// A node-oidc-provider (OpenID Certified, https://github.com/panva/node-oidc-provider)
// authorization server for tests: an implementation nobody here wrote.
//
// Usage: node server.mjs <config.json>
//
// The config file (written by the Go launcher, test/oidcprovider) holds:
//   port           127.0.0.1 port to listen on
//   issuer         http://127.0.0.1:<port>
//   resource       the one protected resource (RFC 8707), the MCP server URL
//   resourceScopes its scopes, space-separated
//   consentScopes  what the test user consents to, space-separated; scopes
//                  asked for and not listed are refused (partial consent);
//                  empty: everything asked for
//   accessTokenTTL seconds
//   account        the test user's account ID (sub)
//   jwk            the private signing key (JWK); access tokens for the
//                  resource are JWTs (RFC 9068) signed with it
//   dir            where hack/oidc-provider.sh installed the oidc-provider
//                  version pinned by package-lock.json (node_modules/ in it)
//
// The configuration is stock oidc-provider apart from what a headless test
// needs: open dynamic client registration (RFC 7591) with RFC 7592
// management, PKCE S256 required of every client, refresh tokens rotated on
// every use, a replayed one revoking the grant (the library's own
// behaviour), resource indicators with JWT access tokens, revocation, and
// an interaction endpoint that logs the test user in and consents at once.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { default: Provider, errors } = await import(
  pathToFileURL(join(cfg.dir, 'node_modules', 'oidc-provider', 'lib', 'index.js')).href);

const resourceScopes = cfg.resourceScopes.split(' ').filter(Boolean);
const consented = new Set((cfg.consentScopes || '').split(' ').filter(Boolean));
const consents = (scope) => consented.size === 0 || consented.has(scope);

const provider = new Provider(cfg.issuer, {
  jwks: { keys: [cfg.jwk] },
  cookies: { keys: ['oidc-provider-test-cookie-key'] },
  // The resource's scopes are listed too: the operator's registration
  // request names the scopes it will ask for, and oidc-provider refuses
  // client metadata with a scope it does not list (invalid_client_metadata).
  scopes: ['openid', 'offline_access', ...resourceScopes],
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  pkce: { required: () => true },
  rotateRefreshToken: true,
  // Stock oidc-provider issues a refresh token only for a granted
  // offline_access, and grants offline_access only with prompt=consent
  // (OpenID Connect Core §11), which the operator does not send: it would
  // get no refresh token at all. OAuth deployments of oidc-provider issue
  // them to every client registered for the grant, as here; offline_access,
  // asked for and dropped, is then missing from the grant, which a refresh
  // asking for it again fails on (invalid_scope).
  issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  // The one signing key is ES256, for ID tokens too.
  clientDefaults: { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], id_token_signed_response_alg: 'ES256' },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    registrationManagement: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => cfg.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== cfg.resource) {
          throw new errors.InvalidTarget();
        }
        return {
          scope: resourceScopes.join(' '),
          audience: cfg.resource,
          accessTokenTTL: cfg.accessTokenTTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
});

// interact finishes an interaction as the test user would: signs in, then
// consents to what is asked (only consentScopes when set; the rest is
// refused, which oidc-provider then does not ask for again).
async function interact(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session, grantId } = details;
  let result;
  if (prompt.name === 'login') {
    result = { login: { accountId: cfg.account } };
  } else if (prompt.name === 'consent') {
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    for (const scope of missing.missingOIDCScope || []) {
      if (consents(scope)) grant.addOIDCScope(scope); else grant.rejectOIDCScope(scope);
    }
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
      for (const scope of scopes) {
        if (consents(scope)) grant.addResourceScope(indicator, scope); else grant.rejectResourceScope(indicator, scope);
      }
    }
    result = { consent: { grantId: await grant.save() } };
  } else {
    throw new Error(`unexpected prompt ${prompt.name}`);
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const handle = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interact(req, res).catch((err) => {
      console.error('interaction failed:', err);
      res.statusCode = 500;
      res.end('interaction failed');
    });
    return;
  }
  handle(req, res);
});

// Every error the provider answers with, for the test's log.
for (const event of ['grant.error', 'registration_create.error', 'registration_read.error', 'registration_delete.error',
  'authorization.error', 'revocation.error', 'server_error']) {
  provider.on(event, (_ctx, err) => console.error(`${event}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`));
}
provider.on('grant.success', (ctx) => console.log(`grant.success: ${ctx.oidc.params.grant_type}`));

server.listen(cfg.port, '127.0.0.1', () => console.log(`oidc-provider listening on ${cfg.issuer}`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
