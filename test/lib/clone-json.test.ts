import { expect } from 'chai';
import { cloneJson } from '../../src/lib/clone-json.ts';

describe('cloneJson', () => {
  it('copies nested objects and arrays, sharing nothing with the original', () => {
    const original = { a: 1, s: 'x', n: null, u: undefined, list: [{ b: [2, 3] }], nested: { c: { d: true } } };
    const copy = cloneJson(original);
    expect(copy).to.deep.equal(original);
    expect(copy).to.not.equal(original);
    expect(copy.list).to.not.equal(original.list);
    expect(copy.list[0]!.b).to.not.equal(original.list[0]!.b);
    expect(copy.nested.c).to.not.equal(original.nested.c);
    expect(Object.keys(copy)).to.deep.equal(Object.keys(original));
  });

  it('copies what is not plain JSON (a Date, a Map) through structuredClone', () => {
    const when = new Date('2026-01-02T03:04:05Z');
    const original = { when, map: new Map([['k', { v: 1 }]]) };
    const copy = cloneJson(original);
    expect(copy.when).to.be.instanceOf(Date).and.not.equal(when);
    expect(copy.when.getTime()).to.equal(when.getTime());
    expect(copy.map.get('k')).to.deep.equal({ v: 1 });
    expect(copy.map.get('k')).to.not.equal(original.map.get('k'));
  });

  it('returns primitives as they are', () => {
    for (const v of [0, 'text', true, null, undefined]) expect(cloneJson(v)).to.equal(v);
  });
});
