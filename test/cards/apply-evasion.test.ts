import { expect } from 'chai';
import { APPLY_SERVER, application, applicationRowCounts, e164, issueByApplication, postApplication, uniqueEmail, uniqueMobile } from '../helpers/applicant.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** The application rows of a mobile number (E.164), any outcome. */
function applicationsOfMobile(ts: TestServer, mobile: string) {
  return ts.db('applications').where({ mobile });
}

describe('an applicant trying for a second card', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts?.stop());

  describe('with the same email written otherwise', () => {
    it('is refused the email in another case, with spaces around it, or a sign that lower-cases to an ASCII letter', async () => {
      const variants: Array<(email: string) => string> = [
        (e) => `${e.split('@')[0]!}@${e.split('@')[1]!.toUpperCase()}`,
        (e) => `  ${e.toUpperCase()}  `,
        (e) => `\u00a0${e}\u3000`,
        // U+212A KELVIN SIGN lower-cases to an ASCII "k".
        (e) => `\u212a${e.slice(1)}`,
      ];
      for (const variant of variants) {
        const email = uniqueEmail('kelvin');
        await issueByApplication(ts, { email });
        const again = variant(email);
        const { status, body } = await postApplication(ts, application({ email: again }));
        expect(status, `${JSON.stringify(again)} ${JSON.stringify(body)}`).to.equal(409);
        expect(body.error).to.equal('duplicate_email');
      }
    });

    it('gives one card for ten simultaneous applications with one email in ten spellings', async () => {
      const email = uniqueEmail('spelt');
      const spellings = Array.from({ length: 10 }, (_, i) => (i % 2 ? ` ${email.toUpperCase()}` : `${email.slice(0, i)}${email.slice(i).toUpperCase()} `));
      const answers = await Promise.all(spellings.map((e) => postApplication(ts, application({ email: e }))));
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 201), statuses.join(',')).to.have.length(1);
      expect(await ts.db('accounts').whereRaw('lower(email) = ?', [email])).to.have.length(1);
    });
  });

  describe('with the same mobile written otherwise', () => {
    it('is refused the number in international form with the trunk 0 kept (+82 010 …, +82 (0)10 …)', async () => {
      const mobile = uniqueMobile();
      await issueByApplication(ts, { mobile });
      const national = mobile.replace(/\D/g, '');
      for (const again of [`+82 ${mobile}`, `+82 (0)${national.slice(1, 3)} ${national.slice(3, 7)} ${national.slice(7)}`, `+82${national}`]) {
        const before = await applicationRowCounts(ts);
        const { status, body } = await postApplication(ts, application({ mobile: again }));
        expect(status, `${again} ${JSON.stringify(body)}`).to.equal(409);
        expect(body.error).to.equal('duplicate_mobile');
        expect((await applicationRowCounts(ts)).accounts).to.equal(before.accounts);
      }
      // Nothing was stored under a second form of the number.
      expect(await applicationsOfMobile(ts, `+82${national}`)).to.have.length(0);
    });

    it('gives one card for simultaneous applications with one mobile in national and international forms', async () => {
      const mobile = uniqueMobile();
      const national = mobile.replace(/\D/g, '');
      const forms = [mobile, `+82 ${mobile.slice(1)}`, `+82 ${mobile}`, `+82${national}`, national, `+82-${national.slice(1)}`];
      const answers = await Promise.all(forms.map((m) => postApplication(ts, application({ mobile: m }))));
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 201), statuses.join(',')).to.have.length(1);
      expect(await ts.db('accounts').where({ mobile: e164(mobile) })).to.have.length(1);
    });
  });

  describe('against a deny list', () => {
    let guarded: TestServer;
    before(async () => {
      guarded = await startCardManager({
        ...APPLY_SERVER,
        cards: { ...APPLY_SERVER.cards, denyList: { action: 'refuse', names: [], emails: [], mobiles: ['+82 010-8880-*'] } },
      });
    });
    after(() => guarded?.stop());

    it('matches a pattern written "+82 010-…" against the number in every form', async () => {
      for (const mobile of ['010-8880-1234', '+82 10 8880 1235', '+82 010 8880 1236']) {
        const { status, body } = await postApplication(guarded, application({ mobile }));
        expect(status, `${mobile} ${JSON.stringify(body)}`).to.equal(403);
        expect(body.error).to.equal('denied');
      }
    });
  });
});
