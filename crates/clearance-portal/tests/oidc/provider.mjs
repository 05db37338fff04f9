// A real OpenID Provider for the single sign-on tests: the certified
// `oidc-provider` library (npm), configured here with clients, accounts and
// its development login page, on a loopback port. Not a mock: discovery, the
// authorization and token endpoints, PKCE, ID token signing, JWKS and
// RP-initiated logout are the library's own.
//
// Environment: PROVIDER_PORT, PROVIDER_CLIENTS (JSON list of clients, each
// optionally with `mangle`: "wrong_audience" or "expired", see below) and
// PROVIDER_ACCOUNTS (JSON object: login -> claims); PROVIDER_KID names its
// signing key (a fresh RSA key each start). Prints "listening" when
// it serves.
import { generateKeyPair, exportJWK, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PROVIDER_PORT);
const clients = JSON.parse(process.env.PROVIDER_CLIENTS);
const accounts = JSON.parse(process.env.PROVIDER_ACCOUNTS);
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: process.env.PROVIDER_KID || 'test-key-1', alg: 'RS256', use: 'sig' };

const mangles = Object.fromEntries(
  clients.filter((client) => client.mangle).map((client) => [client.client_id, client.mangle]),
);

const provider = new Provider(issuer, {
  clients: clients.map(({ mangle, ...client }) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    ...client,
  })),
  jwks: { keys: [signingKey] },
  // The ID token carries the claims the mapping reads (clearance reads only the ID token).
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups', 'tenant'],
  },
  scopes: ['openid', 'email', 'profile'],
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  // First-party clients: the sign-in grants every requested scope, no consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

// A client marked `mangle` gets, from the token endpoint, an ID token that the
// provider's own key signs but that breaks one rule clearance must check:
// "wrong_audience" is minted for another client, "expired" ran out ten
// minutes ago (as from a provider whose clock is late).
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || ctx.status !== 200 || !ctx.body || !ctx.body.id_token) return;
  const claims = decodeJwt(ctx.body.id_token);
  const mangle = mangles[claims.aud];
  if (!mangle) return;
  const now = Math.floor(Date.now() / 1000);
  if (mangle === 'wrong_audience') claims.aud = 'another-application';
  if (mangle === 'expired') { claims.iat = now - 1200; claims.exp = now - 600; }
  const header = decodeProtectedHeader(ctx.body.id_token);
  ctx.body = {
    ...ctx.body,
    id_token: await new SignJWT(claims).setProtectedHeader(header).sign(privateKey),
  };
});

provider.listen(port, '127.0.0.1', () => console.log('listening'));
