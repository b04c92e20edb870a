import { expect } from 'chai';
import { parseCsv } from '../../src/lib/csv.ts';
import { settlementCsv, type SettlementLine, type SettlementReport } from '../../src/ledger/settlement.ts';

/** A report line for a site of this name, its figures made up. */
function line(siteName: string, payout: number): SettlementLine {
  return {
    client_id: 'site-1',
    site_name: siteName,
    currency: 'KRW',
    captured: 1_000,
    refunds: 0,
    refund_count: 0,
    chargebacks: 0,
    chargeback_count: 0,
    net: 1_000,
    fee_basis_points: 250,
    fee: 25,
    payout,
    late_count: 0,
    late_net: 0,
    closed: false,
  };
}

function report(sites: SettlementLine[]): SettlementReport {
  const totals = { captured: 0, refunds: 0, refund_count: 0, chargebacks: 0, chargeback_count: 0, fee: 0, payout: 0 };
  return { month: '2026-11', period_start: '2026-11-01', period_end: '2026-12-01', time_zone: 'Asia/Seoul', complete: true, sites, totals, totals_by_currency: {} };
}

/** Cells as a spreadsheet splitting on `separator` (and honouring RFC 4180 quotes) reads them. */
function cellsAsSplitOn(csv: string, separator: string): string[] {
  return parseCsv(csv.replaceAll(separator, ',')).flatMap((r) => r.fields);
}

/**
 * A member site names itself (dynamic registration): its name reaches the operator's spreadsheet through the
 * settlement CSV, and must never arrive there as a formula.
 */
describe('settlement CSV: a site name is never a formula', () => {
  const FORMULA = /^[=+\-@\t\r]/;

  it("quote-prefixes a name that starts like a formula, and keeps numbers (a negative payout) as numbers", () => {
    const csv = settlementCsv(report([line('=1+1', -5), line('@SUM(A1)', 0), line('+cmd', 0), line('-2+3', 0)]));
    const rows = parseCsv(csv).slice(1);
    expect(rows.map((r) => r.fields[2])).to.deep.equal(["'=1+1", "'@SUM(A1)", "'+cmd", "'-2+3"]);
    expect(rows[0]!.fields[12]).to.equal('-5');
  });

  it('quotes a name with a semicolon, which a spreadsheet of a semicolon locale splits unquoted cells on', () => {
    const name = "Acme;=cmd|' /C calc'!A0";
    const csv = settlementCsv(report([line(name, 10)]));
    // Read with commas it is the name, whole.
    expect(parseCsv(csv)[1]!.fields[2]).to.equal(name);
    // Read as Excel reads a .csv where the list separator is ";": no cell may start a formula.
    const cells = cellsAsSplitOn(csv, ';');
    expect(cells.filter((c) => FORMULA.test(c))).to.deep.equal([]);
  });
});
