import { expect } from 'chai';
import { HOLDER_CHOICE_DESCRIPTIONS, SITE_DESCRIPTIONS, UNDER_AGE_DESCRIPTIONS } from '../../src/approvals/site-descriptions.ts';
import { itemRefusalWords, refusalWords } from '../../src/demo-site/refusal-words.ts';

describe("demo member site: a refusal's words for the visitor (refusal-words.ts)", () => {
  const generic = refusalWords('access_denied', 'something_new: a code the demo does not know.', {}).sentence;

  it('has its own sentence for every code the card manager sends, never the code itself', () => {
    const all = [...Object.values(SITE_DESCRIPTIONS), ...Object.values(HOLDER_CHOICE_DESCRIPTIONS), ...Object.values(UNDER_AGE_DESCRIPTIONS)];
    for (const description of all) {
      const code = description.split(':')[0]!;
      const words = refusalWords('access_denied', description, { rating: '19' });
      expect(words.sentence, code).to.not.equal(generic);
      const shown = `${words.heading} ${words.sentence} ${words.nextStep ?? ''}`;
      expect(shown, code).to.not.include(`${code}:`);
      expect(shown, code).to.not.match(/\b[a-z]+_[a-z_]+\b/);
    }
  });

  it('tells a minor at the 19+ section the age, and says a declined payment charged nothing', () => {
    expect(refusalWords('access_denied', UNDER_AGE_DESCRIPTIONS.request, { rating: '19' })).to.deep.equal({
      heading: 'Purchase refused',
      sentence: 'You must be 19 or over to see this section.',
      nextStep: null,
    });
    expect(refusalWords('access_denied', UNDER_AGE_DESCRIPTIONS.request, { rating: '19', entry: true })).to.deep.equal({
      heading: 'Entry refused',
      sentence: 'You must be 19 or over to see this section.',
      nextStep: null,
    });
    expect(refusalWords('access_denied', HOLDER_CHOICE_DESCRIPTIONS.declined, {})).to.include({ heading: 'Purchase cancelled', sentence: 'You declined the payment. Nothing was charged.' });
    expect(refusalWords('access_denied', HOLDER_CHOICE_DESCRIPTIONS.cancelled)).to.include({ heading: 'Log-in cancelled' });
    expect(refusalWords('access_denied', SITE_DESCRIPTIONS.over_limit, {}).nextStep).to.equal('Try another card, or pay your card’s statement and try again.');
  });

  it('falls back to a general sentence for an unknown code, no code, or an error other than access_denied', () => {
    expect(generic).to.equal('The card manager did not accept your card for this.');
    expect(refusalWords('access_denied', undefined).sentence).to.equal(generic);
    expect(refusalWords('access_denied', 'Under_Age: not a code as the card manager writes it').sentence).to.equal(generic);
    expect(refusalWords('invalid_request_uri', 'request_uri is invalid, expired, or was already used', {})).to.deep.equal({
      heading: 'Purchase failed',
      sentence: 'The card manager could not finish this request.',
      nextStep: 'Please start again from this site.',
    });
    expect(refusalWords(undefined, undefined).heading).to.equal('Log-in failed');
  });

  it("words the demo API's refusal of a bought item from the approval's status and the error code, never the kit's text", () => {
    const cancelled = itemRefusalWords(401, 'invalid_token', { status: 'revoked' });
    expect(cancelled).to.match(/^This purchase no longer counts: it was cancelled/);
    for (const status of ['voided', 'expired']) expect(itemRefusalWords(401, 'invalid_token', { status })).to.equal(cancelled);
    expect(itemRefusalWords(503, 'temporarily_unavailable', { status: 'captured' })).to.match(/could not confirm your purchase just now/);
    expect(itemRefusalWords(401, 'invalid_token', { status: 'captured' })).to.equal('Your access to this item has run out. Please log in again, or buy it again, to see it.');
    expect(itemRefusalWords(403, 'insufficient_scope', null)).to.equal('Your log-in does not cover this item. Please log in again.');
    expect(itemRefusalWords(400, undefined, null)).to.equal('The site could not let you see this item just now. Please try again.');
  });
});
