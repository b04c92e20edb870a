import { expect } from 'chai';
import { startCardManager, type TestServer } from '../helpers/server.ts';

describe('the favicon', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startCardManager();
  });
  after(() => ts.stop());

  it('answers /favicon.ico with 204 and lets the browser keep that for a week, never the 404 page', async () => {
    const res = await fetch(`${ts.url}/favicon.ico`);
    expect(res.status).to.equal(204);
    expect(res.headers.get('cache-control')).to.equal('public, max-age=604800');
    expect(await res.text()).to.equal('');
  });

  it('names an inline SVG icon on every page, which the CSP lets the browser show', async () => {
    for (const path of ['/card/signin', '/apply', '/nowhere']) {
      const res = await fetch(`${ts.url}${path}`, { headers: { accept: 'text/html' } });
      const html = await res.text();
      const href = /<link rel="icon" type="image\/svg\+xml" href="(data:image\/svg\+xml,[^"]+)">/.exec(html)?.[1];
      expect(href, path).to.be.a('string');
      expect(decodeURIComponent(href!.slice('data:image/svg+xml,'.length))).to.match(/^<svg xmlns='http:\/\/www\.w3\.org\/2000\/svg'[^>]*>.*<\/svg>$/);
      expect(res.headers.get('content-security-policy'), path).to.match(/img-src [^;]*data:/);
    }
  });
});
