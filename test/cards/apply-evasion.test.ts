import { expect } from 'chai';
import { blockCard } from '../../src/cards/block.ts';
import { closeCard } from '../../src/cards/close.ts';
import { reportLost } from '../../src/cards/report-lost.ts';
import { issueTestCard, type TestCard } from '../helpers/fixtures.ts';
import { APPLY_SERVER, application, birthdateForAge, applicationRowCounts, e164, issueByApplication, postApplication, uniqueEmail, uniqueMobile, uniqueName } from '../helpers/applicant.ts';
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

  describe('with text that is not text', () => {
    it('refuses half a surrogate pair in any field (400 beside it, nothing stored): as UTF-8 it is U+FFFD, one for any other', async () => {
      for (const field of ['legal_name', 'email', 'mobile', 'birthdate', 'password', 'guardian_card_number', 'guardian_password']) {
        const value = field === 'password' ? 'Violet harbor lamps\ud800' : field === 'birthdate' ? '1990-05-1\udc00' : `a\ud800b`;
        const body = application({ [field]: value, ...(field === 'password' ? { password_confirm: value } : {}) });
        const before = await applicationRowCounts(ts);
        const answer = await postApplication(ts, body);
        expect(answer.status, `${field}: ${JSON.stringify(answer.body)}`).to.equal(400);
        expect(answer.body.fields, field).to.have.property(field);
        expect(await applicationRowCounts(ts), field).to.deep.equal(before);
      }
    });
  });

  describe('with the same name made to look different', () => {
    // Code points that show nothing (default ignorable) but are letters or marks, so a name's shape would pass them.
    const INVISIBLE: ReadonlyArray<[string, (name: string) => string]> = [
      ['a combining grapheme joiner', (n) => n.replace(' ', '\u034f ')],
      ['a variation selector', (n) => `${n}\ufe0f`],
      ['an ideographic variation selector', (n) => `${n}\u{e0100}`],
      ['a Hangul filler', (n) => `${n}\u3164`],
      ['a halfwidth Hangul filler', (n) => `${n}\uffa0`],
    ];

    it('refuses a name with an invisible letter or mark (400 beside the name, nothing stored)', async () => {
      for (const [what, hide] of INVISIBLE) {
        const legalName = hide(what.includes('Hangul') ? '김민수' : uniqueName());
        const before = await applicationRowCounts(ts);
        const { status, body } = await postApplication(ts, application({ legal_name: legalName }));
        expect(status, `${what}: ${JSON.stringify(body)}`).to.equal(400);
        expect(body.field_codes, what).to.deep.equal({ legal_name: 'invalid_characters' });
        expect(await applicationRowCounts(ts), what).to.deep.equal(before);
      }
    });

    it('still sends the same name and date of birth to review in another case, spacing or normalisation form', async () => {
      const name = 'Jéong Minsu';
      await issueByApplication(ts, { legal_name: name, birthdate: '1971-03-09' });
      for (const again of ['JÉONG   minsu', ' jéong minsu ', name.normalize('NFD'), 'Ｊéong Ｍinsu']) {
        const { status, body } = await postApplication(ts, application({ legal_name: again, birthdate: '1971-03-09' }));
        expect(status, `${again} ${JSON.stringify(body)}`).to.equal(202);
        expect(body).to.not.have.property('review_reason');
      }
    });

    it('gives one card at once and sends the rest to review for simultaneous applications by one name and date of birth', async () => {
      const name = uniqueName('Seo');
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => postApplication(ts, application({ legal_name: i % 2 ? name.toUpperCase() : name, birthdate: '1968-08-08' }))),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses.join(','), JSON.stringify(answers.map((a) => a.body.error ?? a.body.status))).to.equal(['201', ...Array.from({ length: 19 }, () => '202')].join(','));
    });

    it('takes the typographic apostrophe for the typewriter one: the same name and date of birth go to review either way', async () => {
      await issueByApplication(ts, { legal_name: "O'Brien Twiceta", birthdate: '1972-04-10' });
      const typographic = await postApplication(ts, application({ legal_name: 'O’Brien Twiceta', birthdate: '1972-04-10' }));
      expect(typographic.status, JSON.stringify(typographic.body)).to.equal(202);
      await issueByApplication(ts, { legal_name: 'D’Arcy Twicetb', birthdate: '1972-04-11' });
      const typewriter = await postApplication(ts, application({ legal_name: "D'Arcy Twicetb", birthdate: '1972-04-11' }));
      expect(typewriter.status, JSON.stringify(typewriter.body)).to.equal(202);
    });
    it('takes a name with a period added at its end for the same name (to review), and keeps the period as written', async () => {
      const name = uniqueName('Kim');
      await issueByApplication(ts, { legal_name: name, birthdate: '1973-05-11' });
      const again = await postApplication(ts, application({ legal_name: `${name}.`, birthdate: '1973-05-11' }));
      expect(again.status, JSON.stringify(again.body)).to.equal(202);
      const row = await ts.db('applications').where({ id: String(again.body.application_id) }).first();
      expect(row).to.include({ status: 'review', reason: 'duplicate_person', legal_name: `${name}.` });
      // And the other way round: a holder whose name ends in a period, applying without it.
      const dotted = `${uniqueName('Lee')} Jr.`;
      await issueByApplication(ts, { legal_name: dotted, birthdate: '1973-05-12' });
      const undotted = await postApplication(ts, application({ legal_name: ` ${dotted.slice(0, -1).toUpperCase()}`, birthdate: '1973-05-12' }));
      expect(undotted.status, JSON.stringify(undotted.body)).to.equal(202);
    });

    it('refuses a name with a hyphen, period or apostrophe anywhere else at its ends (400 beside the name, nothing stored)', async () => {
      for (const name of ['Lee-', '-Lee Minsu', '.Lee Minsu', "Lee Minsu'", 'Lee Minsu-.', 'Lee Minsu..']) {
        const before = await applicationRowCounts(ts);
        const { status, body } = await postApplication(ts, application({ legal_name: name }));
        expect(status, `${name} ${JSON.stringify(body)}`).to.equal(400);
        expect(body.field_codes, name).to.deep.equal({ legal_name: 'invalid_characters' });
        expect(await applicationRowCounts(ts), name).to.deep.equal(before);
      }
    });
  });

  describe('against a deny list', () => {
    let guarded: TestServer;
    before(async () => {
      guarded = await startCardManager({
        ...APPLY_SERVER,
        cards: { ...APPLY_SERVER.cards, denyList: { action: 'refuse', names: ['mallory *', '김말로', "d'arcy *", 'o’hara *'], emails: [], mobiles: ['+82 010-8880-*'] } },
      });
    });
    after(() => guarded?.stop());

    it('refuses a listed name in another case, spacing or normalisation form, and with an invisible character (nothing issued)', async () => {
      for (const name of ['MALLORY   Smith', 'ｍａｌｌｏｒｙ Smith', '김말로', '김말로'.normalize('NFD'), '김말로.', 'D’Arcy Smith', "O'Hara Smith"]) {
        const { status, body } = await postApplication(guarded, application({ legal_name: name }));
        expect(status, name).to.equal(403);
        expect(body.error).to.equal('denied');
      }
      for (const name of ['Mallory\u034f Smith', '김말로\u3164']) {
        const { status } = await postApplication(guarded, application({ legal_name: name }));
        expect(status, JSON.stringify(name)).to.equal(400);
      }
    });

    it('matches a pattern written "+82 010-…" against the number in every form', async () => {
      for (const mobile of ['010-8880-1234', '+82 10 8880 1235', '+82 010 8880 1236']) {
        const { status, body } = await postApplication(guarded, application({ mobile }));
        expect(status, `${mobile} ${JSON.stringify(body)}`).to.equal(403);
        expect(body.error).to.equal('denied');
      }
    });
  });

  describe('as a minor with a guardian card that cannot vouch', () => {
    it('is refused (403 guardian_invalid, one message) for a lost, closed or blocked guardian card, and guardian_not_adult for a minor\'s', async () => {
      const minor = (g: TestCard) => application({ birthdate: birthdateForAge(15), guardian_card_number: g.number, guardian_password: g.password });
      const lost = await issueTestCard(ts, '1970-02-02', 'Lost Guardian');
      await reportLost(ts.db, { cardId: lost.cardId, actor: 'test', reason: 'test', proof: 'operator' });
      const closed = await issueTestCard(ts, '1970-02-03', 'Closed Guardian');
      await closeCard(ts.db, { cardId: closed.cardId, actor: 'test', reason: 'test' });
      const blocked = await issueTestCard(ts, '1970-02-04', 'Blocked Guardian');
      await blockCard(ts.db, { cardId: blocked.cardId, actor: 'test', reason: 'test' });
      const descriptions = new Set<unknown>();
      for (const g of [lost, closed, blocked]) {
        const before = await applicationRowCounts(ts);
        const { status, body } = await postApplication(ts, minor(g));
        expect(`${status} ${String(body.error)}`).to.equal('403 guardian_invalid');
        descriptions.add(body.error_description);
        expect((await applicationRowCounts(ts)).accounts).to.equal(before.accounts);
      }
      expect(descriptions.size).to.equal(1);

      // A minor's own card vouches for no one, not even once the minor has one through a real guardian.
      const parent = await issueTestCard(ts, '1970-02-05', 'Real Guardian');
      const child = await issueByApplication(ts, { birthdate: birthdateForAge(17), guardian_card_number: parent.number, guardian_password: parent.password });
      const viaChild = await postApplication(ts, minor({ number: child.cardNumber, password: child.password } as TestCard));
      expect(`${viaChild.status} ${String(viaChild.body.error)}`).to.equal('403 guardian_not_adult');
    });
  });

  describe("as the guardian's own child", () => {
    const minor = (g: TestCard, legalName: string, age = 15) =>
      application({ legal_name: legalName, birthdate: birthdateForAge(age), guardian_card_number: g.number, guardian_password: g.password });

    it("sends a minor with the guardian's own name (folded) to review as same_as_guardian, the applicant not told why", async () => {
      const name = uniqueName('Selfa');
      const guardian = await issueTestCard(ts, '1970-02-07', name);
      // Each on another date of birth: one child twice is duplicate_ward.
      for (const [i, again] of [name, `  ${name.toUpperCase()}`, `${name}.`].entries()) {
        const { status, body } = await postApplication(ts, minor(guardian, again, 15 + i));
        expect(status, `${again} ${JSON.stringify(body)}`).to.equal(202);
        expect(body, again).to.not.have.property('review_reason');
        const row = await ts.db('applications').where({ id: String(body.application_id) }).first();
        expect(row, again).to.include({ status: 'review', reason: 'same_as_guardian' });
        const res = await fetch(`${ts.url}/admin/api/applications/${String(body.application_id)}`, {
          headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}` },
        });
        const { findings } = (await res.json()) as { findings: Array<{ code: string; about: string }> };
        expect(findings.map((f) => f.code), again).to.include('same_as_guardian');
      }
    });

    it('issues a child with a name of its own at once', async () => {
      const guardian = await issueTestCard(ts, '1970-02-08', uniqueName('Selfb'));
      const { status, body } = await postApplication(ts, minor(guardian, uniqueName('Childb')));
      expect(status, JSON.stringify(body)).to.equal(201);
    });
  });

  describe('on the day of a birthday, in the billing time zone', () => {
    /** A server whose clock stands at `at`, with statements (and ages) counted in `timeZone`. */
    async function at(instant: string, timeZone: string, check: (server: TestServer) => Promise<void>) {
      const server = await startCardManager({ ...APPLY_SERVER, billing: { timeZone } }, { now: () => new Date(instant) });
      try {
        await check(server);
      } finally {
        await server.stop();
      }
    }
    const answer = async (server: TestServer, birthdate: string) => {
      const { status, body } = await postApplication(server, application({ birthdate }));
      return `${status} ${String(body.error ?? body.status)}`;
    };

    it('takes a 14th or 19th birthday that has begun in Seoul though it has not in UTC (01:00 on 7 December in Seoul)', async () => {
      await at('2026-12-06T16:00:00Z', 'Asia/Seoul', async (server) => {
        expect(await answer(server, '2012-12-07'), 'turns 14 today').to.equal('403 guardian_required');
        expect(await answer(server, '2012-12-08'), 'turns 14 tomorrow').to.equal('403 too_young');
        expect(await answer(server, '2007-12-07'), 'turns 19 today').to.equal('201 approved');
        expect(await answer(server, '2007-12-08'), 'turns 19 tomorrow').to.equal('403 guardian_required');
      });
    });

    it('waits for a birthday that has begun in UTC but not in Los Angeles (19:00 on 6 December there)', async () => {
      await at('2026-12-07T03:00:00Z', 'America/Los_Angeles', async (server) => {
        expect(await answer(server, '2007-12-07'), 'turns 19 tomorrow there').to.equal('403 guardian_required');
        expect(await answer(server, '2012-12-07'), 'turns 14 tomorrow there').to.equal('403 too_young');
        expect(await answer(server, '2007-12-06'), 'turned 19 today').to.equal('201 approved');
      });
    });

    it("judges the too-old typo guard (over 120 years) on Seoul's calendar too, at 01:00 on 7 December there", async () => {
      await at('2026-12-06T16:00:00Z', 'Asia/Seoul', async (server) => {
        const counts = await applicationRowCounts(server);
        const { status, body } = await postApplication(server, application({ birthdate: '1905-12-07' }));
        expect(`${status} ${JSON.stringify(body.field_codes)}`, '121 today in Seoul, 120 in UTC').to.equal('400 {"birthdate":"too_old"}');
        expect(await applicationRowCounts(server), 'nothing stored').to.deep.equal(counts);
        expect(await answer(server, '1905-12-08'), '120 until tomorrow in Seoul').to.equal('201 approved');
      });
    });

    it('counts a 29 February birthday as reached on 1 March in a year without one', async () => {
      await at('2027-02-28T12:00:00Z', 'Asia/Seoul', async (server) => {
        expect(await answer(server, '2008-02-29')).to.equal('403 guardian_required');
      });
      await at('2027-02-28T15:00:00Z', 'Asia/Seoul', async (server) => {
        expect(await answer(server, '2008-02-29')).to.equal('201 approved');
      });
    });
  });
});
