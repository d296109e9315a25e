/**
 * A real OAuth2 authorization server on 127.0.0.1 (oidc-provider, a certified OpenID
 * provider) with the client credentials grant, introspection and revocation enabled, and a
 * count of token requests. Plus a resource server that accepts a bearer token only when the
 * authorization server's introspection says it is active.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { json, startUpstream, type Upstream } from './upstream.ts';

export const CLIENT = { id: 'weft-client', secret: 'cs-7f3a9e1b-very-secret' };

export interface AuthServer {
  issuer: string;
  tokenUrl: string;
  /** Requests to the token endpoint so far. */
  readonly tokenRequests: number;
  /** Revokes an access token, as an administrator would. */
  revoke(token: string): Promise<void>;
  introspect(token: string): Promise<{ active: boolean; client_id?: string }>;
  close(): Promise<void>;
}

export async function startAuthServer(options: { tokenTtlSeconds?: number; scope?: string } = {}): Promise<AuthServer> {
  const scope = options.scope ?? 'orders:read';
  let tokenRequests = 0;
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope,
      },
    ],
    scopes: scope.split(' '),
    features: {
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      devInteractions: { enabled: false },
    },
    ttl: { ClientCredentials: options.tokenTtlSeconds ?? 3600 },
  });
  const handle = provider.callback();
  server.on('request', (req, res) => {
    if (req.url?.split('?')[0] === '/token') tokenRequests++;
    handle(req, res);
  });
  const basic = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
  const form = async (path: string, fields: Record<string, string>) => {
    const res = await fetch(issuer + path, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    return res;
  };
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    get tokenRequests() {
      return tokenRequests;
    },
    async revoke(token) {
      const res = await form('/token/revocation', { token });
      if (res.status !== 200) throw new Error(`revocation answered ${res.status}`);
    },
    async introspect(token) {
      return (await form('/token/introspection', { token })).json() as Promise<{ active: boolean; client_id?: string }>;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A REST API that checks every bearer token with the authorization server. */
export function startResourceServer(auth: AuthServer, answer?: (path: string) => unknown): Promise<Upstream> {
  return startUpstream(async (req, res) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const claims = m ? await auth.introspect(m[1]) : { active: false };
    if (!claims.active) {
      res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      return json(res, 401, { error: 'invalid_token' });
    }
    json(res, 200, answer ? answer(req.url) : { client: claims.client_id, path: req.url });
  });
}
