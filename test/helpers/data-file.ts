import { expect } from 'chai';

/**
 * The text of a copy of a holder's data answered as a download (holder/data-file.ts), whoever asked for it (the holder
 * at /card/data, the operator's API or console): checked first to be one, JSON, never cached, saved under its dated name.
 */
export async function downloadedDataFile(res: Response): Promise<string> {
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.equal('application/json; charset=utf-8');
  expect(res.headers.get('cache-control')).to.equal('no-store');
  expect(res.headers.get('content-disposition')).to.match(/^attachment; filename="cybercard-data-\d{4}-\d{2}-\d{2}\.json"$/);
  return res.text();
}
