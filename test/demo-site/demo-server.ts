import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { upsertResourceServer } from '../../src/db/member-sites.ts';
import { createDemoSite, type DemoSite } from '../../src/demo-site/app.ts';
import { registerMemberSite } from '../../src/member-sites/register.ts';
import { close } from '../../src/server.ts';
import type { TestServer } from '../helpers/server.ts';

export const SITE_NAME = 'Demo member site';

export interface RunningDemo {
  url: string;
  clientId: string;
  clientSecret: string;
  resource: string;
  site: DemoSite;
  server: Server;
  stop(): Promise<void>;
}

/**
 * The real demo member site on an ephemeral port, registered with the card manager like the dev
 * seed does. The socket is bound first so the redirect URI and resource server can name its port.
 */
export async function startDemoSite(ts: TestServer, opts: { strictCacheSeconds?: number } = {}): Promise<RunningDemo> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const resource = `${url}/api`;
  await upsertResourceServer(ts.db, { identifier: resource, name: `${SITE_NAME} API`, scope: '', accessTokenTtl: null });
  const reg = await registerMemberSite(
    { db: ts.db, requireHttps: false, ratings: ts.config.ratings },
    {
      name: SITE_NAME,
      redirectUris: [`${url}/callback`],
      postLogoutRedirectUris: [`${url}/`],
      tokenEndpointAuthMethod: 'client_secret_basic',
      resourceServers: [resource],
      homepageUri: url,
      backchannelLogoutUri: `${url}/backchannel-logout`,
      backchannelLogoutSessionRequired: true,
      approvalEventsUri: `${url}/approval-events`,
    },
    'test',
  );
  const site = await createDemoSite({
    issuer: ts.url,
    clientId: reg.clientId,
    clientSecret: reg.clientSecret!,
    url,
    resource,
    cookieKeys: ['demo-site-test-cookie-key'],
    currency: ts.config.currency,
    ...opts,
  });
  server.on('request', site.app.callback());
  return {
    url,
    clientId: reg.clientId,
    clientSecret: reg.clientSecret!,
    resource,
    site,
    server,
    async stop() {
      site.stop();
      server.closeAllConnections();
      await close(server);
    },
  };
}
