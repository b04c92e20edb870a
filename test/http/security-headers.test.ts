import { expect } from 'chai';
import Koa from 'koa';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { securityHeaders } from '../../src/http/security-headers.ts';
import { close } from '../../src/server.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

describe('security headers', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startCardManager();
  });
  after(() => ts.stop());

  it('sends no-sniff, no-framing, no-referrer and a strict CSP on every page, and no HSTS for an http issuer', async () => {
    for (const path of ['/apply', '/card/signin', '/nowhere']) {
      const res = await fetch(`${ts.url}${path}`);
      expect(res.headers.get('x-content-type-options'), path).to.equal('nosniff');
      expect(res.headers.get('x-frame-options'), path).to.equal('DENY');
      expect(res.headers.get('referrer-policy'), path).to.equal('no-referrer');
      expect(res.headers.get('content-security-policy'), path).to.include("frame-ancestors 'none'");
      expect(res.headers.get('strict-transport-security'), path).to.equal(null);
    }
  });

  it('adds HSTS for an https issuer', async () => {
    const app = new Koa();
    app.use(securityHeaders({ https: true }));
    app.use((ctx) => void (ctx.body = 'ok'));
    const server = createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(res.headers.get('strict-transport-security')).to.equal('max-age=31536000; includeSubDomains');
    } finally {
      await close(server);
    }
  });
});
