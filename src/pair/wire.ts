// The pairing messages on the wire: one byte of version, one of type, then length-prefixed fields
// (CPace's own prepend_len, LEB128). Encoding and strict decoding, pure: a frame that is too long,
// of another version, of an unknown type, with a field of the wrong size or with bytes left over is
// refused with a typed reason, never half-read.
import { PAIR_MESSAGE_MAX } from './channel.js';
import { ELEMENT_BYTES, concat, lvCat } from './cpace.js';

/** The protocol version this build speaks. A peer's other version is refused by name, never guessed at. */
export const PAIR_VERSION = 1;

export const MSG = {
  hello: 1, // accepter -> offerer: sid, Ya, the accepter's label
  reply: 2, // offerer -> accepter: Yb, the offerer's label (no tag: nothing to test a guess against)
  confirm: 3, // accepter -> offerer: the accepter's confirmation tag, the first proof of the code
  settings: 4, // offerer -> accepter: the offerer's confirmation tag, the sealed settings
  done: 5, // accepter -> offerer: the sealed outcome of applying them
  abort: 6, // either way: why this side stopped (not secret, not authenticated: informative only)
} as const;
export type MsgType = keyof typeof MSG;

/** A session id of 16 random bytes: unique per run with overwhelming probability (the draft's sid). */
export const SID_BYTES = 16;
/** HMAC-SHA512 tags. */
export const TAG_BYTES = 64;
/** A device label as people name machines ("laptop", "Anna's phone"); 64 characters is plenty. */
export const MAX_LABEL = 64;
/** A length prefix of at most 3 LEB128 bytes (21 bits, 2 MiB): any frame's field fits, PAIR_MESSAGE_MAX is 16 KiB. */
const LEN_BYTES_MAX = 3;
/** Abort reasons are short tokens from our own list. */
const MAX_REASON = 32;

export type Message =
  | { type: 'hello'; sid: Uint8Array; Y: Uint8Array; label: string }
  | { type: 'reply'; Y: Uint8Array; label: string }
  | { type: 'confirm'; tag: Uint8Array }
  | { type: 'settings'; tag: Uint8Array; sealed: Uint8Array }
  | { type: 'done'; sealed: Uint8Array }
  | { type: 'abort'; reason: string };

export type DecodeFailure = 'oversized' | 'version' | 'malformed';

export type Decoded = { ok: true; msg: Message } | { ok: false; failure: DecodeFailure; detail: string };

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** A label we show: printable, no control or bidi-override characters, 1 to MAX_LABEL characters. */
export function isLabel(s: string): boolean {
  return (
    s.length >= 1 && [...s].length <= MAX_LABEL && s.trim() === s && !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(s)
  );
}

function frame(type: MsgType, ...fields: Uint8Array[]): Uint8Array {
  return concat(Uint8Array.from([PAIR_VERSION, MSG[type]]), lvCat(...fields));
}

export function encode(m: Message): Uint8Array {
  switch (m.type) {
    case 'hello':
      return frame('hello', m.sid, m.Y, utf8.encode(m.label));
    case 'reply':
      return frame('reply', m.Y, utf8.encode(m.label));
    case 'confirm':
      return frame('confirm', m.tag);
    case 'settings':
      return frame('settings', m.tag, m.sealed);
    case 'done':
      return frame('done', m.sealed);
    case 'abort':
      return frame('abort', utf8.encode(m.reason));
  }
}

/** The header of a frame (version, type): bound into the AEAD of sealed messages. */
export function header(type: MsgType): Uint8Array {
  return Uint8Array.from([PAIR_VERSION, MSG[type]]);
}

/** Splits length-prefixed fields; null when a length is malformed (not shortest, over 3 bytes) or runs past the end. */
function fields(b: Uint8Array, at: number): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  while (at < b.length) {
    let len = 0;
    for (let i = 0; ; i++) {
      // 3 LEB128 bytes cover 2 MiB, past any frame; a 4th is refused.
      if (at >= b.length || i >= LEN_BYTES_MAX) return null;
      const byte = b[at++]!;
      len += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) {
        // Shortest form only: a last byte of 0 after others pads the length, one field two encodings.
        if (byte === 0 && i > 0) return null;
        break;
      }
    }
    if (at + len > b.length) return null;
    out.push(b.subarray(at, at + len));
    at += len;
  }
  return out;
}

function text(b: Uint8Array): string | null {
  try {
    return utf8Strict.decode(b);
  } catch {
    return null;
  }
}

export function decode(b: Uint8Array): Decoded {
  const bad = (detail: string): Decoded => ({ ok: false, failure: 'malformed', detail });
  if (b.length > PAIR_MESSAGE_MAX)
    return { ok: false, failure: 'oversized', detail: `${b.length} bytes, more than ${PAIR_MESSAGE_MAX}` };
  if (b.length < 2) return bad('shorter than a header');
  if (b[0] !== PAIR_VERSION) return { ok: false, failure: 'version', detail: `version ${b[0]}` };
  const f = fields(b, 2);
  if (!f) return bad('a field length runs past the end');
  const type = b[1];
  const n = (count: number) => f.length === count;
  const label = (x: Uint8Array | undefined) => {
    const s = x && text(x);
    return s && isLabel(s) ? s : null;
  };
  switch (type) {
    case MSG.hello: {
      const l = label(f[2]);
      if (!n(3) || f[0]!.length !== SID_BYTES || f[1]!.length !== ELEMENT_BYTES || !l)
        return bad('a bad hello');
      return { ok: true, msg: { type: 'hello', sid: f[0]!, Y: f[1]!, label: l } };
    }
    case MSG.reply: {
      const l = label(f[1]);
      if (!n(2) || f[0]!.length !== ELEMENT_BYTES || !l) return bad('a bad reply');
      return { ok: true, msg: { type: 'reply', Y: f[0]!, label: l } };
    }
    case MSG.confirm:
      if (!n(1) || f[0]!.length !== TAG_BYTES) return bad('a bad confirmation');
      return { ok: true, msg: { type: 'confirm', tag: f[0]! } };
    case MSG.settings:
      if (!n(2) || f[0]!.length !== TAG_BYTES || f[1]!.length === 0) return bad('a bad settings message');
      return { ok: true, msg: { type: 'settings', tag: f[0]!, sealed: f[1]! } };
    case MSG.done:
      if (!n(1) || f[0]!.length === 0) return bad('a bad sealed message');
      return { ok: true, msg: { type: 'done', sealed: f[0]! } };
    case MSG.abort: {
      const r = n(1) ? text(f[0]!) : null;
      if (!r || r.length > MAX_REASON || !/^[a-z-]+$/.test(r)) return bad('a bad abort');
      return { ok: true, msg: { type: 'abort', reason: r } };
    }
    default:
      return bad(`unknown message type ${type}`);
  }
}
