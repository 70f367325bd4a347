import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import {
  quoteName,
  utf8Length,
  parseStatusZBytes,
  splitNul,
  joinNul,
  mayBeMangled,
  isUtf8Name,
  absName,
} from '../../../src/git/rawpaths.js';

const b = (s: string) => Buffer.from(s, 'latin1');

test('quoteName escapes invalid bytes as octal and keeps valid UTF-8 readable', () => {
  assert.equal(quoteName(b('caf\xe9.txt')), '"caf\\351.txt"');
  assert.equal(quoteName(Buffer.from('café/r\xe9sum\xe9', 'utf8')), '"café/r\u00e9sum\u00e9"');
  assert.equal(quoteName(Buffer.concat([Buffer.from('日本/', 'utf8'), b('\xff')])), '"日本/\\377"');
  assert.equal(quoteName(Buffer.from('U+FFFD \uFFFD is valid', 'utf8')), '"U+FFFD \uFFFD is valid"');
});

test('quoteName escapes quotes, backslashes and control characters, so the form is unambiguous', () => {
  assert.equal(quoteName(b('a"b\\c')), '"a\\"b\\\\c"');
  assert.equal(quoteName(b('tab\there\nnl\x01\x7f')), '"tab\\there\\nnl\\001\\177"');
  assert.equal(quoteName(Buffer.from('c1\u0085', 'utf8')), '"c1\\302\\205"');
  // A literal backslash-x sequence and the byte it spells must not print alike.
  assert.notEqual(quoteName(b('caf\\351.txt')), quoteName(b('caf\xe9.txt')));
});

test('quoteName output is always valid, printable JSON text', () => {
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.from(Array.from({ length: 1 + (i % 12) }, (_, k) => (i * 37 + k * 101) % 256));
    const q = quoteName(buf);
    assert.ok(isUtf8(Buffer.from(q, 'utf8')));
    assert.doesNotMatch(q, /[\u0000-\u001f\u007f-\u009f]/, `no control characters in ${q}`);
    if (!buf.includes(Buffer.from('\uFFFD', 'utf8')))
      assert.ok(!q.includes('\uFFFD'), 'an invalid byte never prints as U+FFFD');
    assert.equal(JSON.parse(JSON.stringify(q)), q);
  }
});

test('utf8Length agrees with isUtf8 on every 1- to 3-byte sequence and on random 4-byte ones', () => {
  const wellFormed = (buf: Buffer): boolean => {
    for (let i = 0; i < buf.length;) {
      const n = utf8Length(buf, i);
      if (n === 0) return false;
      i += n;
    }
    return true;
  };
  for (let x = 0; x < 256; x++) {
    assert.equal(wellFormed(Buffer.from([x])), isUtf8(Buffer.from([x])), `byte ${x}`);
    for (let y = 0; y < 256; y++) {
      const two = Buffer.from([x, y]);
      assert.equal(wellFormed(two), isUtf8(two), `bytes ${x} ${y}`);
    }
  }
  for (const lead of [0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf4, 0xf5]) {
    for (let y = 0x70; y < 0xd0; y++) {
      for (const z of [0x7f, 0x80, 0xbf, 0xc0]) {
        const three = Buffer.from([lead, y, z]);
        assert.equal(wellFormed(three), isUtf8(three), `bytes ${lead} ${y} ${z}`);
        const four = Buffer.from([lead, y, z, 0x80]);
        assert.equal(wellFormed(four), isUtf8(four), `bytes ${lead} ${y} ${z} 128`);
      }
    }
  }
});

test('parseStatusZBytes keeps names as exact bytes and skips rename sources', () => {
  const out = Buffer.concat([
    b('?? caf\xe9.txt\0'),
    b(' D dir/\xff\xfe\0'),
    b('R  new\0old\xe9\0'),
    b('M  x\0'),
  ]);
  const e = parseStatusZBytes(out);
  assert.deepEqual(
    e.map((x) => [x.xy, x.path.toString('latin1')]),
    [
      ['??', 'caf\xe9.txt'],
      [' D', 'dir/\xff\xfe'],
      ['R ', 'new'],
      ['M ', 'x'],
    ],
  );
  assert.deepEqual(parseStatusZBytes(Buffer.alloc(0)), []);
});

test('splitNul and joinNul round-trip, a trailing NUL opens no empty field', () => {
  const names = [b('a'), b('caf\xe9'), b('c d')];
  const joined = joinNul(names);
  assert.equal(joined.toString('latin1'), 'a\0caf\xe9\0c d\0');
  assert.deepEqual(splitNul(joined), names);
  assert.deepEqual(splitNul(b('x\0y')), [b('x'), b('y')]);
  assert.deepEqual(splitNul(Buffer.alloc(0)), []);
});

test('mayBeMangled, isUtf8Name and absName', () => {
  assert.equal(mayBeMangled(b('caf\xe9.txt').toString('utf8')), true);
  assert.equal(mayBeMangled('café.txt'), false);
  assert.equal(isUtf8Name(b('caf\xe9.txt')), false);
  assert.equal(isUtf8Name(Buffer.from('café.txt', 'utf8')), true);
  assert.equal(absName('/w/t', b('caf\xe9')).toString('latin1'), '/w/t/caf\xe9');
});
