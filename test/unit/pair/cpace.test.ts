// CPace against the draft's published test vectors for ristretto255 / SHA-512. The values are from
// draft-irtf-cfrg-cpace (the CFRG repository's draft text, as of draft-21), appendix "Test vectors",
// section "Test vector for CPace using group ristretto255 and hash SHA-512", and the string-utility
// vectors of appendix "CPace function definitions". Our key confirmation is ours (the draft leaves
// the MAC to the application), so its rows test properties, not published values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ristretto255 } from '@noble/curves/ed25519.js';
import {
  calculateGenerator,
  checkTag,
  confirmationTag,
  deriveSession,
  generatorString,
  intermediateSessionKey,
  lvCat,
  makeShare,
  prependLen,
  scalarFromBytes,
  scalarMult,
  scalarMultVfy,
  transcriptIr,
  type CPaceInputs,
} from '../../../src/pair/cpace.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

// Appendix "Test vector for CPace using group ristretto255 and hash SHA-512".
const V = {
  PRS: ascii('Password'),
  CI: hex('0b415f696e69746961746f720b425f726573706f6e646572'),
  sid: hex('7e4b4791d6a8ef019b936c79fb7f2c57'),
  generatorString: hex(`
    11435061636552697374726574746f3235350850617373776f726464
    00000000000000000000000000000000000000000000000000000000
    00000000000000000000000000000000000000000000000000000000
    00000000000000000000000000000000000000000000000000000000
    00000000000000000000000000000000180b415f696e69746961746f
    720b425f726573706f6e646572107e4b4791d6a8ef019b936c79fb7f
    2c57`),
  g: '222b6b195fe84b1652badb6f6a3ae3d24341e7306967f0b8115b40d5698c7e56',
  ADa: ascii('ADa'),
  ya: hex('da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08'),
  Ya: 'd6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0eec482b9157',
  ADb: ascii('ADb'),
  yb: hex('d2316b454718c35362d83d69df6320f38578ed5984651435e2949762d900b80d'),
  Yb: '3ea7e0b19560d7c0b0f5734f63b955286dfa8232b5ebe63324e2d9e7433f7258',
  K: '80b69a8a76457ab6a4d7f887a4bf6b55a2f80ac19c333f917a05fc9887c8b40f',
  transcriptIr:
    '20d6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0eec482b915703414461203ea7e0b19560d7c0b0f5734f63b955286dfa8232b5ebe63324e2d9e7433f725803414462',
  ISK_IR:
    'b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dcae7b35cd2b38950a39dfd5d4a79164614c2984f7daa460b588c1e80c3fa2068af7900447',
};

test('prepend_len and lv_cat: the draft appendix vectors', () => {
  assert.equal(toHex(prependLen(new Uint8Array(0))), '00');
  assert.equal(toHex(prependLen(ascii('1234'))), '0431323334');
  const r127 = Uint8Array.from({ length: 127 }, (_, i) => i);
  assert.equal(toHex(prependLen(r127)), '7f' + toHex(r127));
  const r128 = Uint8Array.from({ length: 128 }, (_, i) => i);
  assert.equal(toHex(prependLen(r128)), '8001' + toHex(r128));
  assert.equal(toHex(lvCat(ascii('1234'), ascii('5'), ascii(''), ascii('678'))), '043132333401350003363738');
  assert.equal(
    toHex(transcriptIr(ascii('123'), ascii('PartyA'), ascii('234'), ascii('PartyB'))),
    '03313233065061727479410332333406506172747942',
  );
});

test('generator: generator_string and the encoded generator g', () => {
  assert.equal(toHex(generatorString(V.PRS, V.CI, V.sid)), toHex(V.generatorString));
  assert.equal(toHex(calculateGenerator(V.PRS, V.CI, V.sid).toBytes()), V.g);
});

test('messages from A and B, the secret point K, ISK (initiator/responder)', () => {
  const g = calculateGenerator(V.PRS, V.CI, V.sid);
  const ya = scalarFromBytes(V.ya);
  const yb = scalarFromBytes(V.yb);
  assert.equal(toHex(scalarMult(ya, g)), V.Ya);
  assert.equal(toHex(scalarMult(yb, g)), V.Yb);
  const kA = scalarMultVfy(ya, hex(V.Yb));
  const kB = scalarMultVfy(yb, hex(V.Ya));
  assert.equal(toHex(kA!), V.K);
  assert.equal(toHex(kB!), V.K);
  const tr = transcriptIr(hex(V.Ya), V.ADa, hex(V.Yb), V.ADb);
  assert.equal(toHex(tr), V.transcriptIr);
  assert.equal(toHex(intermediateSessionKey(V.sid, hex(V.K), tr)), V.ISK_IR);
});

test('deriveSession reaches the vector ISK from both roles', () => {
  const inputs: CPaceInputs = { prs: V.PRS, ci: V.CI, sid: V.sid };
  const a = makeShare(inputs, V.ya);
  const b = makeShare(inputs, V.yb);
  const ka = deriveSession(inputs, a, b.Y, 'A', V.ADa, V.ADb);
  const kb = deriveSession(inputs, b, a.Y, 'B', V.ADa, V.ADb);
  assert.equal(toHex(ka.isk), V.ISK_IR);
  assert.equal(toHex(kb.isk), V.ISK_IR);
  assert.deepEqual(ka.sealA, kb.sealA);
  assert.notDeepEqual(ka.sealA, ka.sealB);
  assert.notDeepEqual(ka.confirmA, ka.confirmB);
});

test('scalar_mult_vfy: the draft invalid inputs (non-canonical encoding, the identity) give G.I', () => {
  // Appendix "Test case for scalar_mult with valid inputs" and "Invalid inputs for scalar_mult_vfy".
  const s = scalarFromBytes(hex('7cd0e075fa7955ba52c02759a6c90dbbfc10e6d40aea8d283e407d88cf538a05'));
  const X = hex('2c3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c');
  const want = '7c13645fe790a468f62c39beb7388e541d8405d1ade69d1778c5fe3e7f6b600e';
  assert.equal(toHex(scalarMult(s, ristretto255.Point.fromBytes(X))), want);
  assert.equal(toHex(scalarMultVfy(s, X)!), want);
  assert.equal(
    scalarMultVfy(s, hex('2b3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c')),
    null,
  );
  assert.equal(scalarMultVfy(s, new Uint8Array(32)), null);
  assert.equal(scalarMultVfy(s, new Uint8Array(31)), null);
  const inputs: CPaceInputs = { prs: V.PRS, ci: V.CI, sid: V.sid };
  assert.throws(() => deriveSession(inputs, makeShare(inputs, V.ya), new Uint8Array(32), 'A', V.ADa, V.ADb), {
    code: 'pair-cpace',
  });
});

test('key confirmation: tags verify with the same password, fail with another, and are directional', () => {
  const run = (prsB: string) => {
    const ia: CPaceInputs = { prs: ascii('correct horse'), ci: V.CI, sid: V.sid };
    const ib: CPaceInputs = { ...ia, prs: ascii(prsB) };
    const a = makeShare(ia, V.ya);
    const b = makeShare(ib, V.yb);
    return {
      ka: deriveSession(ia, a, b.Y, 'A', V.ADa, V.ADb),
      kb: deriveSession(ib, b, a.Y, 'B', V.ADa, V.ADb),
    };
  };
  const ok = run('correct horse');
  assert.equal(checkTag(ok.kb, 'A', confirmationTag(ok.ka, 'A')), true);
  assert.equal(checkTag(ok.ka, 'B', confirmationTag(ok.kb, 'B')), true);
  // A tag reflected back to its sender does not pass as the other direction's.
  assert.equal(checkTag(ok.ka, 'B', confirmationTag(ok.ka, 'A')), false);
  assert.equal(checkTag(ok.ka, 'B', confirmationTag(ok.kb, 'B').subarray(0, 32)), false);
  const bad = run('correct horsf');
  assert.equal(checkTag(bad.kb, 'A', confirmationTag(bad.ka, 'A')), false);
  assert.equal(checkTag(bad.ka, 'B', confirmationTag(bad.kb, 'B')), false);
});

test('scalarFromBytes clears the bits above 252 and refuses a wrong length', () => {
  assert.ok(scalarFromBytes(new Uint8Array(32).fill(0xff)) < 2n ** 252n);
  assert.throws(() => scalarFromBytes(new Uint8Array(31)), { code: 'pair-cpace' });
  assert.throws(() => scalarFromBytes(new Uint8Array(32)), { code: 'pair-cpace' });
});
