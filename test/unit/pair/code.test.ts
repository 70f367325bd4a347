// The pairing code: the word lists' rules, format/parse round trips, and one row per way a typed or
// pasted code can be wrong (each its own problem code and a message saying what to do).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  codeSecret,
  editDistance,
  formatCode,
  formatLongCode,
  newCode,
  parseCode,
  LONG_PREFIX,
  MAX_CODE_TEXT,
  PairCodeError,
  type CodeProblem,
} from '../../../src/pair/code.js';
import { EVEN_WORDS, ODD_WORDS } from '../../../src/pair/words.js';

test('word lists: 256 each, 512 distinct, a-z, 3 to 8 letters, no two within one edit', () => {
  assert.equal(ODD_WORDS.length, 256);
  assert.equal(EVEN_WORDS.length, 256);
  const all = [...ODD_WORDS, ...EVEN_WORDS];
  assert.equal(new Set(all).size, 512);
  for (const w of all) assert.match(w, /^[a-z]{3,8}$/);
  for (let i = 0; i < all.length; i++)
    for (let j = i + 1; j < all.length; j++)
      assert.ok(editDistance(all[i]!, all[j]!) >= 2, `${all[i]} and ${all[j]} are one edit apart`);
});

test('editDistance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('otter', 'otter'), 0);
  assert.equal(editDistance('otter', 'otetr'), 1);
  assert.equal(editDistance('otter', 'oter'), 1);
  assert.equal(editDistance('calm', 'clam'), 1);
  assert.equal(editDistance('abc', 'cab'), 2);
});

test('newCode: one word per byte, alternating lists; format and parse round trip', () => {
  const code = newCode(7, Uint8Array.from([0, 255, 17]));
  assert.deepEqual(code.words, [ODD_WORDS[0], EVEN_WORDS[255], ODD_WORDS[17]]);
  const text = formatCode(code);
  assert.equal(text, `7-${ODD_WORDS[0]}-${EVEN_WORDS[255]}-${ODD_WORDS[17]}`);
  assert.deepEqual(parseCode(text), code);
  assert.deepEqual(Buffer.from(codeSecret(code)).toString(), code.words.join('-'));
  const long = newCode(42, Uint8Array.from([1, 2, 3, 4, 5, 6, 7]));
  assert.deepEqual(parseCode(formatCode(long)), long);
  assert.throws(() => newCode(0, Uint8Array.from([1, 2, 3])), { code: 'pair-code-nameplate' });
  assert.throws(() => newCode(7, Uint8Array.from([1, 2])), { code: 'pair-code-too-few-words' });
  assert.throws(() => newCode(7, Uint8Array.from([1, 2, 3, 4])), { code: 'pair-code-word-count' });
  assert.throws(() => newCode(7, new Uint8Array(9)), { code: 'pair-code-too-many-words' });
});

const [o0, e0, o1] = [ODD_WORDS[10]!, EVEN_WORDS[20]!, ODD_WORDS[30]!];
const GOOD = { nameplate: 7, words: [o0, e0, o1] };

test('parseCode accepts case, spaces and surrounding blanks', () => {
  for (const typed of [
    `7-${o0}-${e0}-${o1}`,
    `  7-${o0}-${e0}-${o1}\n`,
    `7 ${o0} ${e0} ${o1}`,
    `7 - ${o0.toUpperCase()} -${e0}  ${o1}`,
    `7-${o0}--${e0}-${o1}`,
  ])
    assert.deepEqual(parseCode(typed), GOOD, typed);
});

/** A word one letter off that is no word of either list. */
function typo(w: string): string {
  for (const c of 'qxzjk') {
    const t = c + w.slice(1);
    if (![...ODD_WORDS, ...EVEN_WORDS].includes(t)) return t;
  }
  throw new Error('no typo');
}

test('parseCode: each wrong code gives its own problem and says what to do', () => {
  const rows: Array<[string, CodeProblem, RegExp, RegExp?]> = [
    ['', 'empty', /type the code the other device shows/],
    ['   ', 'empty', /no code/],
    [`${o0}-${e0}-${o1}`, 'nameplate', /starts with the number/, new RegExp(`starts with "${o0}"`)],
    [`07-${o0}-${e0}-${o1}`, 'nameplate', /starts with the number/],
    [`12345-${o0}-${e0}-${o1}`, 'nameplate', /starts with the number/],
    [`7-${o0}-${e0}`, 'too-few-words', /has 2 words .* at least 3/],
    ['7', 'too-few-words', /has 0 words/],
    [`7-${[o0, e0, o1, e0, o1, e0, o1, e0, o1].join('-')}`, 'too-many-words', /at most 7/],
    [`7-${o0}-${e0}-${o1}-${e0}`, 'word-count', /has 4 words .* 3, 5 or 7: a word is missing or doubled/],
    [`7-${o0}-${e0}-${e0}-${o1}`, 'word-count', /a word is missing or doubled/],
    [`7-${[o0, e0, o1, e0, o1, e0].join('-')}`, 'word-count', /has 6 words/],
    [
      `7-${typo(o0)}-${e0}-${o1}`,
      'unknown-word',
      /the first word is not a pairing word/,
      new RegExp(`^"${typo(o0)}" is not a pairing word; did you mean "${o0}"\\?$`),
    ],
    [`7-${o0}-${e0.slice(0, -1)}-${o1}`, 'unknown-word', /the second word is not a pairing word/],
    [
      `7-${o0}-${e0}-zzzzzzzzz`,
      'unknown-word',
      /is not a pairing word\. Check .*still good/,
      /^"zzzzzzzzz" is not a pairing word$/,
    ],
    [`7-${o0}-${e0}-${o1}3`, 'unknown-word', /not a pairing word/],
    [`7-${o0}-${e0}-${o1}/../x`, 'unknown-word', /not a pairing word/],
    [
      `7-${e0}-${o0}-${o1}`,
      'word-order',
      /the first word belongs at another place: a word is missing, doubled or two words are swapped/,
      new RegExp(`"${e0}" cannot be the first word`),
    ],
    [`7-${o0}-${o1}-${e0}`, 'word-order', /the second word belongs at another place/],
    [`7-${o0}-${e0}-${o1}-${o1}-${e0}`, 'word-order', /fourth word/],
    [`7-${o0}-${e0}-${e0}-${o1}-${o1}`, 'word-order', /third word/],
    [`${LONG_PREFIX}7-${o0}-${e0}-${o1}`, 'long-form', /no address part/],
    [`${LONG_PREFIX}7-${o0}-${e0}-${o1}:not base64!`, 'long-form', /not base64url/],
    [`${LONG_PREFIX}7-${o0}-${e0}-${o1}:${b64('[1]')}`, 'long-form', /not an object/],
    [`${LONG_PREFIX}7-${o0}-${e0}-${o1}:${b64('{')}`, 'long-form', /does not decode/],
    [`${LONG_PREFIX}7-${o0}-${e0}-${o1}:${b64('{"jid":"a@b","x":1}')}`, 'long-form', /unknown field "x"/],
    [`${LONG_PREFIX}7-${o0}-${e0}-${o1}:${b64('{"jid":5}')}`, 'long-form', /jid is not text/],
    [`${LONG_PREFIX}7-${o0}-${e0}-${o1}:${b64('{}')}`, 'long-form', /exactly one of/],
    [`${LONG_PREFIX}7-${o0}-${e0}-${o1}:${b64('{"jid":"a@b","room":"r@c"}')}`, 'long-form', /exactly one/],
    [`${LONG_PREFIX}7-${o0}-${e0}-${o1}:${b64('{"jid":"-o@x/../y"}')}`, 'long-form', /account must be/],
    [`${LONG_PREFIX}7-${o0}-${e0}-${o1}:${b64('{"room":"--upload-pack"}')}`, 'long-form', /room must be/],
    [
      `${LONG_PREFIX}7-${o0}-${e0}-${o1}:${b64('{"jid":"a@b.org","service":"file:///etc/passwd"}')}`,
      'long-form',
      /service must be/,
    ],
    [`${LONG_PREFIX}7-${o0}-${e0}:${b64('{"jid":"a@b.org"}')}`, 'too-few-words', /at least 3/],
  ];
  // What was typed (the code's words, a typo of one, a word cut short) never reaches the message.
  const typedWords = new Set([o0, e0, o1, typo(o0), e0.slice(0, -1), 'zzzzzzzzz']);
  for (const [typed, problem, message, hint] of rows) {
    assert.throws(
      () => parseCode(typed),
      (e: PairCodeError) => {
        assert.equal(e.code, `pair-code-${problem}`, `${JSON.stringify(typed)}: ${e.message}`);
        assert.match(e.message, message, JSON.stringify(typed));
        assert.doesNotMatch(e.message, /\n/);
        if (hint) assert.match(e.terminalHint ?? '', hint, JSON.stringify(typed));
        // Nor does it reach the error's JSON: the hint is not enumerable.
        for (const t of [e.message, JSON.stringify(e), JSON.stringify({ ...e })])
          for (const w of t.toLowerCase().split(/[^a-z]+/)) assert.ok(!typedWords.has(w), `${w} in ${t}`);
        return true;
      },
      JSON.stringify(typed),
    );
  }
});

test('input far longer than a code is refused at once, short or long form; no suggestion for a long word', () => {
  for (const typed of [
    `7-${o0}-${e0}-${'x'.repeat(MAX_CODE_TEXT)}`,
    `7 ${'brave '.repeat(60)}`,
    'a'.repeat(200_000),
    `${LONG_PREFIX}7-${o0}-${e0}-${'x'.repeat(MAX_CODE_TEXT)}:${b64('{"jid":"a@b.org"}')}`,
  ])
    assert.throws(() => parseCode(typed), { code: 'pair-code-too-long', message: /type only the code/ });
  // Just under the bound: an unknown word, with no suggestion searched for (it is far from any word).
  assert.throws(
    () => parseCode(`7-${o0}-${e0}-${'q'.repeat(MAX_CODE_TEXT - 20)}`),
    (e: PairCodeError) => e.code === 'pair-code-unknown-word' && !/did you mean/.test(e.terminalHint ?? ''),
  );
});

function b64(s: string): string {
  return Buffer.from(s).toString('base64url');
}

test('long form: carries the rendezvous address, checked both ways', () => {
  const at = { jid: 'alice@example.org', service: 'xmpps://example.org:5223' };
  const long = formatLongCode(GOOD, at);
  assert.ok(long.startsWith(LONG_PREFIX));
  assert.deepEqual(parseCode(long), { ...GOOD, rendezvous: at });
  assert.deepEqual(
    parseCode(`  ${long.toUpperCase().slice(0, LONG_PREFIX.length)}${long.slice(LONG_PREFIX.length)} `),
    {
      ...GOOD,
      rendezvous: at,
    },
  );
  const room = { room: 'pair-7@conference.example.org' };
  assert.deepEqual(parseCode(formatLongCode(GOOD, room)), { ...GOOD, rendezvous: room });
  assert.throws(() => formatLongCode(GOOD, { jid: 'not a jid' }), { code: 'pair-code-long-form' });
  assert.throws(() => formatLongCode(GOOD, {}), { code: 'pair-code-long-form' });
});
