// Codec table tests: round trip, canonical form independent of attribute and child order, and every
// rejection rule (bad MAC, replay, stale, foreign repository, malformed, oversized, injection).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml, type XmlElement } from '@xmpp/client';
import {
  canonicalForm,
  encodeSignal,
  parseSignal,
  SequenceCounter,
  SIGNAL_NS,
  signalMac,
  SignalEncodeError,
  SignalVerifier,
  MAX_REFS,
  MAX_STANZA_BYTES,
  type SignalFields,
} from '../../../src/signal/codec.js';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);
const NOW = 1_800_000_000_000;
const SHA1 = 'a'.repeat(40);
const SHA2 = 'b'.repeat(40);
const SHA256 = 'c'.repeat(64);

function fields(over: Partial<SignalFields> = {}): SignalFields {
  return {
    repo: '5e1e8c1f-0000-4000-8000-000000000001',
    node: 'laptop.repo',
    seq: NOW * 1000,
    ts: NOW,
    refs: { 'refs/heads/main': SHA1, 'refs/heads/git-annex': SHA2 },
    pushedTo: ['origin-uuid', 'usb-uuid'],
    ...over,
  };
}

function verifier(over: { now?: number; nodeId?: string; repoId?: string } = {}) {
  return new SignalVerifier({
    repoId: over.repoId ?? fields().repo,
    nodeId: over.nodeId ?? 'desktop',
    key: KEY,
    now: () => over.now ?? NOW,
  });
}

function message(...children: XmlElement[]): XmlElement {
  return xml('message', { from: 'room@conference.localhost/laptop', type: 'groupchat' }, ...children);
}

/** Serializes and parses again, as the wire does. */
function roundTrip(el: XmlElement): XmlElement {
  const p = new xml.Parser();
  let out: XmlElement | null = null;
  p.on('element', (e: XmlElement) => (out = e));
  p.write(`<root>${el.toString()}</root>`);
  if (!out) throw new Error('no element parsed');
  return out;
}

/** Rebuilds an element with its attributes (and optionally children) in reverse order. */
function reordered(el: XmlElement, children = false): XmlElement {
  const attrs: Record<string, string> = {};
  for (const k of Object.keys(el.attrs).reverse()) attrs[k] = el.attrs[k]!;
  const kids = el.children.map((c) => (typeof c === 'string' ? c : reordered(c, children)));
  return xml(el.name, attrs, ...(children ? kids.reverse() : kids));
}

test('encode/decode round trip through XML text', () => {
  const f = fields({ refs: { 'refs/heads/main': SHA1, 'refs/tags/v1.0': SHA256 } });
  const st = roundTrip(message(encodeSignal(f, KEY)));
  const v = verifier().check(st);
  assert.equal(v.kind, 'accept');
  if (v.kind !== 'accept') return;
  assert.deepEqual(v.announcement, { from: f.node, refs: f.refs, pushedTo: ['origin-uuid', 'usb-uuid'] });
  assert.equal(v.seq, f.seq);
  assert.equal(v.ts, f.ts);
  const sig = st.getChild('signal', SIGNAL_NS)!;
  assert.equal(sig.getChild('body'), undefined);
  assert.equal(st.getChild('body'), undefined, 'no <body>: chat clients show nothing');
});

test('canonical form is independent of attribute order, child order and ref order', () => {
  const f = fields();
  const el = encodeSignal(f, KEY);
  for (const variant of [reordered(el), reordered(el, true), roundTrip(reordered(el, true))]) {
    const p = parseSignal(variant);
    assert.ok(p.ok);
    if (!p.ok) continue;
    assert.equal(canonicalForm(p.fields), canonicalForm(f));
    assert.equal(verifier().check(message(variant)).kind, 'accept');
  }
  const swapped = fields({
    refs: { 'refs/heads/git-annex': SHA2, 'refs/heads/main': SHA1 },
    pushedTo: ['usb-uuid', 'origin-uuid'],
  });
  assert.equal(canonicalForm(swapped), canonicalForm(f));
});

test('canonical form: length prefixes make field boundaries unambiguous', () => {
  const a = canonicalForm(fields({ repo: 'ab', node: 'c' }));
  const b = canonicalForm(fields({ repo: 'a', node: 'bc' }));
  assert.notEqual(a, b);
  assert.match(a, /^signal=25:urn:git-autosync:signal:1\nv=1:1\nrepo=2:ab\nnode=1:c\n/);
  assert.notEqual(signalMac(KEY, fields({ pushedTo: [] })), signalMac(KEY, fields({ pushedTo: ['x'] })));
});

test('MAC is over the fields: any change is detected', () => {
  const tamper: Array<[string, (s: XmlElement) => void]> = [
    ['sha', (s) => (s.getChild('ref')!.attrs.sha = SHA2.replace('b', 'd'))],
    ['ref name', (s) => (s.getChild('ref')!.attrs.name = 'refs/heads/evil')],
    ['node', (s) => (s.attrs.node = 'intruder')],
    ['seq', (s) => (s.attrs.seq = String(NOW * 1000 + 1))],
    ['ts', (s) => (s.attrs.ts = String(NOW + 1))],
    ['pushed', (s) => (s.getChild('pushed')!.attrs.to = 'elsewhere')],
    [
      'dropped ref',
      (s) =>
        (s.children = s.children.filter(
          (c) => typeof c === 'string' || c.name !== 'ref' || c.attrs.name !== 'refs/heads/main',
        )),
    ],
    ['added ref', (s) => s.children.unshift(xml('ref', { name: 'refs/heads/x', sha: SHA1 }))],
  ];
  for (const [what, change] of tamper) {
    const s = encodeSignal(fields(), KEY);
    change(s);
    const v = verifier().check(message(s));
    assert.equal(v.kind, 'reject', what);
    if (v.kind === 'reject') assert.equal(v.reason, 'bad-mac', what);
  }
  const wrongKey = verifier().check(message(encodeSignal(fields(), OTHER_KEY)));
  assert.deepEqual(wrongKey.kind === 'reject' && wrongKey.reason, 'bad-mac');
});

test('replay: per-sender sequence numbers must increase', () => {
  const v = verifier();
  const first = message(encodeSignal(fields(), KEY));
  assert.equal(v.check(first).kind, 'accept');
  const again = v.check(roundTrip(first));
  assert.ok(again.kind === 'reject' && again.reason === 'replay');
  const older = v.check(message(encodeSignal(fields({ seq: NOW * 1000 - 1 }), KEY)));
  assert.ok(older.kind === 'reject' && older.reason === 'replay');
  assert.equal(v.check(message(encodeSignal(fields({ seq: NOW * 1000 + 1 }), KEY))).kind, 'accept');
  // Another sender has its own counter.
  assert.equal(v.check(message(encodeSignal(fields({ node: 'phone', seq: 5 }), KEY))).kind, 'accept');
  // A rejected (bad MAC) signal must not advance the counter.
  const forged = v.check(message(encodeSignal(fields({ node: 'tablet', seq: 10 ** 15 }), OTHER_KEY)));
  assert.ok(forged.kind === 'reject' && forged.reason === 'bad-mac');
  assert.equal(v.check(message(encodeSignal(fields({ node: 'tablet', seq: 7 }), KEY))).kind, 'accept');
});

test('timestamp window: ±10 minutes', () => {
  const cases: Array<[number, string]> = [
    [NOW - 9 * 60_000, 'accept'],
    [NOW + 9 * 60_000, 'accept'],
    [NOW - 11 * 60_000, 'stale'],
    [NOW + 11 * 60_000, 'stale'],
    [0, 'stale'],
  ];
  let seq = 1;
  for (const [ts, want] of cases) {
    const v = verifier().check(message(encodeSignal(fields({ ts, seq: seq++ }), KEY)));
    assert.equal(v.kind === 'reject' ? v.reason : v.kind, want, `ts ${ts - NOW}`);
  }
});

test('own echo is ignored, not counted; foreign repository rejected', () => {
  const echo = verifier({ nodeId: 'laptop.repo' }).check(message(encodeSignal(fields(), KEY)));
  assert.deepEqual(echo, { kind: 'ignore', why: 'echo' });
  const foreign = verifier({ repoId: 'another-repo' }).check(message(encodeSignal(fields(), KEY)));
  assert.ok(foreign.kind === 'reject' && foreign.reason === 'foreign-repo');
  assert.deepEqual(verifier().check(xml('message', {}, xml('body', {}, 'hi'))), {
    kind: 'ignore',
    why: 'not-a-signal',
  });
});

test('oversized stanzas are dropped before parsing', () => {
  const big = message(encodeSignal(fields(), KEY), xml('body', {}, 'x'.repeat(MAX_STANZA_BYTES)));
  const v = verifier().check(big);
  assert.ok(v.kind === 'reject' && v.reason === 'oversized');
  const mb = message(xml('signal', { xmlns: SIGNAL_NS, v: '1', junk: 'A'.repeat(1 << 20) }));
  const w = verifier().check(mb);
  assert.ok(w.kind === 'reject' && w.reason === 'oversized');
});

test('the largest valid signal fits under the stanza limit', () => {
  const refs: Record<string, string> = {};
  for (let i = 0; i < MAX_REFS; i++)
    refs[`refs/heads/${String(i).padStart(3, '0')}${'x'.repeat(200 - 14)}`] = SHA256;
  const pushedTo = Array.from({ length: 32 }, (_, i) => `${i}${'u'.repeat(125)}`);
  const f = fields({ refs, pushedTo, repo: 'r'.repeat(128), node: 'n'.repeat(128) });
  const st = message(encodeSignal(f, KEY));
  st.attrs.from = `${'r'.repeat(200)}@conference.example.org/${'n'.repeat(128)}`;
  st.attrs.to = `${'u'.repeat(200)}@example.org/${'r'.repeat(200)}`;
  assert.ok(st.toString().length < MAX_STANZA_BYTES, `${st.toString().length} bytes`);
  assert.equal(verifier({ repoId: f.repo }).check(st).kind, 'accept');
});

/** Builds a signal by hand with a correct MAC over whatever fields, bypassing the encoder's checks. */
function handmade(f: SignalFields, extra: Record<string, string> = {}): XmlElement {
  return xml(
    'signal',
    { xmlns: SIGNAL_NS, v: '1', repo: f.repo, node: f.node, seq: String(f.seq), ts: String(f.ts), ...extra },
    ...Object.entries(f.refs).map(([name, sha]) => xml('ref', { name, sha })),
    ...f.pushedTo.map((id) => xml('pushed', { to: id })),
    xml('mac', { alg: 'hmac-sha256' }, signalMac(KEY, f)),
  );
}

test('malformed and injection values are rejected even with a valid MAC', () => {
  const cases: Array<[string, XmlElement]> = [
    ['ref --upload-pack=evil', handmade(fields({ refs: { '--upload-pack=evil': SHA1 } }))],
    ['ref refs/heads/../x', handmade(fields({ refs: { 'refs/heads/../x': SHA1 } }))],
    ['ref refs/heads/-x', handmade(fields({ refs: { 'refs/heads/-x': SHA1 } }))],
    ['ref with space', handmade(fields({ refs: { 'refs/heads/a b': SHA1 } }))],
    ['ref @{', handmade(fields({ refs: { 'refs/heads/a@{1}': SHA1 } }))],
    ['ref .lock', handmade(fields({ refs: { 'refs/heads/main.lock': SHA1 } }))],
    ['ref not under refs/', handmade(fields({ refs: { HEAD: SHA1 } }))],
    ['ref __proto__', handmade(fields({ refs: Object.fromEntries([['__proto__', SHA1]]) }))],
    ['sha ext::sh', handmade(fields({ refs: { 'refs/heads/main': 'ext::sh -c evil' } }))],
    ['sha upper case', handmade(fields({ refs: { 'refs/heads/main': SHA1.toUpperCase() } }))],
    ['sha 41 hex', handmade(fields({ refs: { 'refs/heads/main': SHA1 + 'a' } }))],
    ['node --evil', handmade(fields({ node: '--evil' }))],
    ['node with slash', handmade(fields({ node: 'a/b' }))],
    ['node too long', handmade(fields({ node: 'n'.repeat(129) }))],
    ['repo ../../etc', handmade(fields({ repo: '../../etc' }))],
    ['pushedTo ext::sh', handmade(fields({ pushedTo: ['ext::sh'] }))],
    ['pushedTo URL', handmade(fields({ pushedTo: ['https://evil.example/x'] }))],
    ['pushedTo duplicate', handmade(fields({ pushedTo: ['a', 'a'] }))],
    ['seq negative', handmade(fields({ seq: -1 }))],
    [
      'seq leading zero',
      xml('signal', { xmlns: SIGNAL_NS, v: '1', repo: 'r', node: 'n', seq: '01', ts: '1' }),
    ],
    [
      'seq huge',
      xml('signal', { xmlns: SIGNAL_NS, v: '1', repo: 'r', node: 'n', seq: '99999999999999999', ts: '1' }),
    ],
    ['version 2', handmade(fields(), { v: '2' })],
    ['unknown attribute', handmade(fields(), { url: 'https://x' })],
    ['no mac', xml('signal', { xmlns: SIGNAL_NS, v: '1', repo: 'r', node: 'n', seq: '1', ts: '1' })],
    ['garbage text', xml('signal', { xmlns: SIGNAL_NS }, 'garbage')],
    ['empty', xml('signal', { xmlns: SIGNAL_NS })],
  ];
  const tooMany: Record<string, string> = {};
  for (let i = 0; i <= MAX_REFS; i++) tooMany[`refs/heads/b${i}`] = SHA1;
  cases.push(['65 refs', handmade(fields({ refs: tooMany }))]);
  cases.push(['33 pushedTo', handmade(fields({ pushedTo: Array.from({ length: 33 }, (_, i) => `r${i}`) }))]);
  const dupRef = handmade(fields());
  dupRef.children.unshift(xml('ref', { name: 'refs/heads/main', sha: SHA1 }));
  cases.push(['duplicate ref', dupRef]);
  const twoMacs = handmade(fields());
  twoMacs.append(xml('mac', { alg: 'hmac-sha256' }, '0'.repeat(64)));
  cases.push(['two macs', twoMacs]);
  const childInRef = handmade(fields());
  childInRef.getChild('ref')!.append(xml('x'));
  cases.push(['element inside ref', childInRef]);
  const badAlg = handmade(fields());
  badAlg.getChild('mac')!.attrs.alg = 'none';
  cases.push(['mac alg none', badAlg]);

  for (const [what, el] of cases) {
    const v = verifier().check(message(el));
    assert.equal(v.kind === 'reject' ? v.reason : v.kind, 'malformed', what);
  }
  const two = verifier().check(message(encodeSignal(fields(), KEY), encodeSignal(fields({ seq: 1 }), KEY)));
  assert.ok(two.kind === 'reject' && two.reason === 'malformed', 'two signals in one message');
});

test('the encoder refuses what a receiver would reject', () => {
  const bad: Array<Partial<SignalFields>> = [
    { refs: { '--upload-pack=evil': SHA1 } },
    { refs: { 'refs/heads/main': 'ext::sh' } },
    { node: '-n' },
    { repo: '' },
    { pushedTo: ['a', 'a'] },
    { seq: 1.5 },
  ];
  for (const over of bad)
    assert.throws(() => encodeSignal(fields(over), KEY), SignalEncodeError, JSON.stringify(over));
  assert.throws(() => encodeSignal(fields(), Buffer.alloc(8)), SignalEncodeError);
});

test('sequence counter: increasing across calls and across restarts', () => {
  let clock = NOW;
  const a = new SequenceCounter(() => clock);
  const s1 = a.next();
  const s2 = a.next();
  assert.ok(s2 > s1);
  clock += 5;
  const restarted = new SequenceCounter(() => clock);
  assert.ok(restarted.next() > s2, 'a restart later in time continues above');
  assert.ok(Number.isSafeInteger(new SequenceCounter(() => Date.UTC(2200, 0, 1)).next()));
});
