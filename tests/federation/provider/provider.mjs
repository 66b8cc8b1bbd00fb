// A real OpenID Provider for the federated sign-in tests: the certified `oidc-provider` package,
// configured here as two issuers on one loopback port, one shaped like FranceConnect (identity
// pivot claims, eIDAS acr values) and one like Pro Santé Connect (SubjectNameID = "8" + RPPS).
//
// The test passes its configuration as JSON on stdin:
//   {"providers": [{"name": "fc", "kind": "franceconnect", "client": {...}, "accounts": {...}}]}
// and reads "READY <port>" on stdout. Each account is {"acr": "eidas2", "claims": {...}} plus
// optional test switches: "tamper" (the token response carries an id_token whose payload was
// changed after signing). Sign-in is a small form listing the accounts (the browser tests fill
// it); the consent is granted with it, as FranceConnect does for a service provider.
// A client may register `token_endpoint_auth_method: "private_key_jwt"` with its public `jwks`;
// its client assertions must then name the issuer as their one audience (RFC 10070), stricter
// than oidc-provider 8's default, which also takes the token endpoint's URL.
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const CLAIMS = {
  franceconnect: {
    openid: ['sub'],
    given_name: ['given_name', 'given_name_array'],
    family_name: ['family_name'],
    birthdate: ['birthdate'],
    gender: ['gender'],
    birthplace: ['birthplace'],
    birthcountry: ['birthcountry'],
    identite_pivot: [
      'given_name', 'given_name_array', 'family_name', 'birthdate', 'gender', 'birthplace',
      'birthcountry',
    ],
    // Not a FranceConnect scope: a provider that also hands over the INS (tests of its checks).
    carnet_test_ins: ['carnet_test_ins'],
    acr: null,
    amr: null,
  },
  prosanteconnect: {
    openid: ['sub'],
    scope_all: [
      'SubjectNameID', 'SubjectRole', 'given_name', 'family_name', 'preferred_username',
      'otherIds',
    ],
    acr: null,
  },
};

function keys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  return [
    { ...rsa.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig', alg: 'RS256' },
    { ...ec.export({ format: 'jwk' }), kid: 'ec-1', use: 'sig', alg: 'ES256' },
  ];
}

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  // An empty icon: the browser asks for no favicon (the browser tests count failed requests).
  // Plain, self-contained and accessible: the browser tests run axe-core on every page.
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>${escape(title)}</title>
</head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

function send(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(html);
}

function b64(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function tampered(idToken) {
  // Change a claim after signing: the signature no longer covers the payload.
  const [header, payload, signature] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  claims.family_name = 'INTRUS';
  claims.sub = `${claims.sub}-x`;
  return [header, b64(claims), signature].join('.');
}

function build(spec, base) {
  const issuer = `${base}/${spec.name}`;
  const { accounts } = spec;
  const provider = new Provider(issuer, {
    clients: [spec.client],
    jwks: { keys: keys() },
    claims: CLAIMS[spec.kind],
    acrValues: ['eidas1', 'eidas2', 'eidas3'],
    scopes: ['openid', ...Object.keys(CLAIMS[spec.kind]).filter((s) => CLAIMS[spec.kind][s])],
    cookies: {
      names: {
        session: `_${spec.name}_session`,
        interaction: `_${spec.name}_interaction`,
        resume: `_${spec.name}_resume`,
      },
      keys: ['carnet-test-provider-cookie-key'],
    },
    pkce: { required: () => true },
    assertJwtClientAuthClaimsAndHeader: async (ctx, claims) => {
      if (claims.aud !== issuer) {
        throw new errors.InvalidClientAuth('aud must be the issuer identifier, alone');
      }
    },
    features: {
      devInteractions: { enabled: false },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page('Déconnexion du fournisseur', `${form}
<p>Voulez-vous vous déconnecter ?</p>
<button type="submit" form="op.logoutForm" name="logout" value="yes">Me déconnecter</button>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Déconnecté', '<p>Vous êtes déconnecté du fournisseur.</p>');
        },
      },
    },
    interactions: { url: (ctx, interaction) => `/${spec.name}/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Erreur du fournisseur', `<p>${escape(out.error)}</p>`);
    },
    findAccount: async (ctx, sub) => {
      const account = accounts[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
    },
    // id_tokens live 2 minutes, less than a pending sign-in (10): a test can outlive one alone.
    ttl: { IdToken: 120, AccessToken: 600, AuthorizationCode: 60, Session: 3600, Grant: 3600,
      Interaction: 600 },
  });
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'token' || !ctx.body?.id_token) return;
    const payload = JSON.parse(Buffer.from(ctx.body.id_token.split('.')[1], 'base64url'));
    if (accounts[payload.sub]?.tamper) ctx.body = { ...ctx.body, id_token: tampered(ctx.body.id_token) };
  });
  return { provider, prefix: `/${spec.name}`, accounts, name: spec.name };
}

async function interaction(entry, req, res, uid, action) {
  const { provider, accounts, name } = entry;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Erreur', '<p>Interaction inconnue.</p>'));
  if (action !== 'login') {
    const options = Object.keys(accounts)
      .map((sub) => `<option value="${escape(sub)}">${escape(sub)}</option>`).join('');
    return send(res, 200, page(`Connexion (${name})`, `
<form method="post" action="/${name}/interaction/${uid}/login">
<label for="account">Compte de test</label>
<select id="account" name="account">${options}</select>
<button type="submit">Se connecter</button></form>`));
  }
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const sub = new URLSearchParams(Buffer.concat(chunks).toString()).get('account');
  const account = accounts[sub];
  if (!account) return send(res, 400, page('Erreur', '<p>Compte inconnu.</p>'));
  const { params } = details;
  const grant = new provider.Grant({ accountId: sub, clientId: params.client_id });
  grant.addOIDCScope(params.scope);
  const grantId = await grant.save();
  const result = {
    login: { accountId: sub, acr: account.acr, amr: ['pwd'] },
    consent: { grantId },
  };
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const config = JSON.parse(Buffer.concat(chunks).toString());
  const server = http.createServer();
  server.listen(0, '127.0.0.1', () => {
    const base = `http://127.0.0.1:${server.address().port}`;
    const entries = config.providers.map((spec) => build(spec, base));
    server.on('request', async (req, res) => {
      try {
        const entry = entries.find((e) => req.url === e.prefix || req.url.startsWith(`${e.prefix}/`));
        if (!entry) return send(res, 404, page('Introuvable', '<p>Aucun fournisseur ici.</p>'));
        const path = req.url.slice(entry.prefix.length).split('?')[0];
        const match = path.match(/^\/interaction\/([^/]+)(?:\/(login))?$/);
        if (match) return await interaction(entry, req, res, match[1], match[2]);
        // Mounted under a path: the provider reads the full URL from originalUrl.
        req.originalUrl = req.url;
        req.url = req.url.slice(entry.prefix.length) || '/';
        return await entry.provider.callback()(req, res);
      } catch (error) {
        process.stderr.write(`${error.stack}\n`);
        return send(res, 500, page('Erreur', '<p>Erreur interne du fournisseur.</p>'));
      }
    });
    process.stdout.write(`READY ${server.address().port}\n`);
  });
}

main();
