// A real OpenID Connect provider for the federation tests, shaped like FranceConnect: claim-named
// scopes (given_name, birthdate...), acr "eidas1", ID tokens and userinfo signed with RS256.
//
//   node provider.mjs '<settings JSON>'
//   settings: {client_id, client_secret, redirect_uri, post_logout_redirect_uri,
//              identities: {login: {claims...}}, end_session (optional, true by default)}
//
// Listens on 127.0.0.1 on a free port and prints one JSON line {"issuer": ...} once ready.
// Its sign-in page asks for a login (a key of `identities`) and any password; consent is implied
// (loadExistingGrant grants what was asked), as with FranceConnect's own flow. Its end_session
// (/session/end) does not ask either: its page holds a form that posts itself (see logoutSource).
// With end_session false it has none: no /session/end, and no end_session_endpoint in its discovery
// document (a provider without RP-initiated logout).
import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const settings = JSON.parse(process.argv[2]);
const claimNames = ['given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'email', 'preferred_username'];

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'test-idp-1' };

let provider;

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  const interaction = path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!interaction) {
    provider.callback()(req, res);
    return;
  }
  handleInteraction(req, res, interaction[1], Boolean(interaction[2])).catch((error) => {
    res.statusCode = 500;
    res.end(String(error));
  });
});

function readForm(req) {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(body))));
  });
}

async function handleInteraction(req, res, uid, submitted) {
  const details = await provider.interactionDetails(req, res);
  if (!submitted) {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>Test identity provider</title><h1>${details.prompt.name}</h1>
<form method="post" action="/interaction/${uid}/login">
<input name="login"><input type="password" name="password"><button type="submit">Sign in</button></form>`);
    return;
  }
  const form = await readForm(req);
  if (!settings.identities[form.login]) {
    res.statusCode = 400;
    res.end('unknown login');
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: form.login, acr: 'eidas1' } },
    { mergeWithLastSubmission: false });
}

// FranceConnect ends its session without asking the member: the form oidc-provider passes (its xsrf
// token) gets logout=yes, which ends the whole session rather than this client's part, and posts itself.
// The tests' Browser runs no script: it submits the form, as the script would.
async function logoutSource(ctx, form) {
  const confirmed = form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>');
  ctx.body = `<!doctype html><title>Signing out</title>${confirmed}
<script>document.forms[0].submit()</script>`;
}

server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = new Provider(issuer, {
    clients: [{
      client_id: settings.client_id,
      client_secret: settings.client_secret,
      redirect_uris: [settings.redirect_uri],
      post_logout_redirect_uris: [settings.post_logout_redirect_uri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      userinfo_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], ...Object.fromEntries(claimNames.map((name) => [name, [name]])) },
    scopes: ['openid', ...claimNames],
    acrValues: ['eidas1'],
    features: {
      devInteractions: { enabled: false },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: { enabled: settings.end_session !== false, logoutSource },
    },
    pkce: { required: () => true },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (ctx, sub) => {
      const identity = settings.identities[sub];
      return identity && { accountId: sub, claims: async () => ({ sub, ...identity }) };
    },
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
      await grant.save();
      ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId, grant.jti);
      return grant;
    },
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
