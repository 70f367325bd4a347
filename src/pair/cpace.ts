// CPace (draft-irtf-cfrg-cpace, cipher suite CPACE-RISTR255-SHA512) in the initiator-responder
// setting, with an explicit key confirmation round. Pure functions over bytes: no I/O, no clock; the
// randomness of a scalar is passed in so the draft's test vectors can drive every step.
//
// The group arithmetic is @noble/curves' ristretto255 (RFC 9496): element derivation from 64 uniform
// bytes, encode/decode, scalar multiplication. Nothing here adds or multiplies points by hand.
//
// Roles: CPace's "A" is the initiator (it speaks first), "B" the responder. In pairing, the new device
// (the accepter) speaks first, so it is A; the device that offers the repository is B.
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { timingSafeEqual } from 'node:crypto';
import { AutosyncError } from '../core/errors.js';

const Point = ristretto255.Point;
type RistrettoPoint = InstanceType<typeof Point>;

/** G_Ristretto255.DSI (draft §"CPace group objects G_Ristretto255 and G_Decaf448"). */
export const DSI = new TextEncoder().encode('CPaceRistretto255');
/** G.DSI || b"_ISK", the domain of the ISK hash (draft §"CPace protocol instructions"). */
const DSI_ISK = new TextEncoder().encode('CPaceRistretto255_ISK');
/** SHA-512's input block size, H.s_in_bytes: the generator string pads DSI and PRS to one block. */
const SHA512_BLOCK = 128;
/** G_Ristretto255.field_size_bytes: the element derivation takes twice this many uniform bytes. */
const FIELD_BYTES = 32;
/** An encoded ristretto255 element is 32 bytes (RFC 9496 §4.3.2). */
export const ELEMENT_BYTES = 32;
/** ISK is a full SHA-512 output (H.b_in_bytes). */
export const ISK_BYTES = 64;
/** group_size_bits = 252: a scalar is 32 random bytes with the top 4 bits cleared (draft's sample_scalar). */
const SCALAR_TOP_MASK = 0x0f;

export class CPaceError extends AutosyncError {
  constructor(message: string) {
    super(message, 'pair-cpace');
    this.name = 'CPaceError';
  }
}

/** LEB128 of len(data), then data (draft appendix "prepend_len function"). */
export function prependLen(data: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = data.length;
  for (;;) {
    if (n < 128) len.push(n);
    else len.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
    if (n === 0) break;
  }
  return concat(Uint8Array.from(len), data);
}

/** prepend_len of each argument, concatenated (draft appendix "lv_cat function"). */
export function lvCat(...parts: Uint8Array[]): Uint8Array {
  return concat(...parts.map(prependLen));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** generator_string(DSI, PRS, CI, sid, s_in_bytes): zero padding fills the first hash block. */
export function generatorString(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const zpad = Math.max(0, SHA512_BLOCK - 1 - prependLen(prs).length - prependLen(DSI).length);
  return lvCat(DSI, prs, new Uint8Array(zpad), ci, sid);
}

/** G.calculate_generator: SHA-512 of the generator string (64 bytes), then RFC 9496 element derivation. */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): RistrettoPoint {
  const hash = sha512(generatorString(prs, ci, sid)).subarray(0, 2 * FIELD_BYTES);
  // Always present for ristretto255 (RFC 9496 §4.3.4); optional only in the generic hasher type.
  if (!ristretto255_hasher.deriveToCurve)
    throw new CPaceError('@noble/curves has no ristretto255 element derivation');
  return ristretto255_hasher.deriveToCurve(hash);
}

/** G.sample_scalar from 32 random bytes: clear the bits above group_size_bits, read little-endian. */
export function scalarFromBytes(random: Uint8Array): bigint {
  if (random.length !== 32) throw new CPaceError('a scalar needs 32 random bytes');
  const b = Uint8Array.from(random);
  b[31] = b[31]! & SCALAR_TOP_MASK;
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  // Zero happens with probability 2^-252; a zero scalar would make our share the identity.
  if (n === 0n) throw new CPaceError('the random scalar is zero');
  return n;
}

/** G.scalar_mult(y, g): the public encoding of y*g. */
export function scalarMult(y: bigint, g: RistrettoPoint): Uint8Array {
  return g.multiply(y).toBytes();
}

/**
 * G.scalar_mult_vfy(y, X): decode X (an encoding the other side sent), multiply, encode. Returns null
 * (the draft's G.I, on which the protocol MUST abort) when X does not decode or the product is the
 * identity.
 */
export function scalarMultVfy(y: bigint, x: Uint8Array): Uint8Array | null {
  if (x.length !== ELEMENT_BYTES) return null;
  let p: RistrettoPoint;
  try {
    p = Point.fromBytes(x);
  } catch {
    return null;
  }
  const k = p.multiply(y);
  if (k.is0()) return null;
  return k.toBytes();
}

/** transcript_ir(Ya, ADa, Yb, ADb) = lv_cat(Ya, ADa) || lv_cat(Yb, ADb). */
export function transcriptIr(ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  return concat(lvCat(ya, ada), lvCat(yb, adb));
}

/** ISK = H.hash(lv_cat(G.DSI || b"_ISK", sid, K) || transcript_ir(Ya, ADa, Yb, ADb)). */
export function intermediateSessionKey(sid: Uint8Array, k: Uint8Array, transcript: Uint8Array): Uint8Array {
  return sha512(concat(lvCat(DSI_ISK, sid, k), transcript));
}

/** The inputs both sides must share; ISK matches only when all of them do. */
export interface CPaceInputs {
  /** The password-related string: the secret words of the code. */
  prs: Uint8Array;
  /** Channel identifier: binds the run to this application and nameplate (never sent). */
  ci: Uint8Array;
  /** Session id: public, unique per run. */
  sid: Uint8Array;
}

/** One side's share: the scalar (kept) and Y (sent). */
export interface CPaceShare {
  y: bigint;
  Y: Uint8Array;
}

export function makeShare(inputs: CPaceInputs, random32: Uint8Array): CPaceShare {
  const g = calculateGenerator(inputs.prs, inputs.ci, inputs.sid);
  const y = scalarFromBytes(random32);
  return { y, Y: scalarMult(y, g) };
}

/** The keys both sides derive once ISK is known. Each direction has its own keys. */
export interface SessionKeys {
  isk: Uint8Array;
  /** MAC key for the initiator's (A's) confirmation tag, and for the responder's (B's). */
  confirmA: Uint8Array;
  confirmB: Uint8Array;
  /** AEAD keys (32 bytes) for what A sends, and for what B sends. */
  sealA: Uint8Array;
  sealB: Uint8Array;
  /** A short value both screens may show, so the user can compare them. */
  verifier: Uint8Array;
  /** The transcript the tags cover. */
  transcript: Uint8Array;
}

/** What the application's labels for the derived keys start with (domain separation from other uses of ISK). */
const KDF_LABEL = 'git-autosync pair v1 ';
/** HMAC-SHA512 keys: one hash output. */
const MAC_KEY_BYTES = 64;
/** ChaCha20-Poly1305 and AES-256-GCM both take 32-byte keys. */
const SEAL_KEY_BYTES = 32;
/** 3 bytes: shown as six hex digits, enough to notice a mismatch by eye; it is not the security. */
const VERIFIER_BYTES = 3;

function derive(isk: Uint8Array, sid: Uint8Array, what: string, n: number): Uint8Array {
  return hkdf(sha512, isk, sid, new TextEncoder().encode(KDF_LABEL + what), n);
}

/**
 * Both sides: K from our scalar and the other's share, then ISK and the derived keys. Throws
 * CPaceError when the other share is invalid (the draft's abort on G.I).
 */
export function deriveSession(
  inputs: CPaceInputs,
  own: CPaceShare,
  peerY: Uint8Array,
  role: 'A' | 'B',
  ada: Uint8Array,
  adb: Uint8Array,
): SessionKeys {
  const k = scalarMultVfy(own.y, peerY);
  if (!k) throw new CPaceError("the other side's key share is not a valid group element");
  const transcript =
    role === 'A' ? transcriptIr(own.Y, ada, peerY, adb) : transcriptIr(peerY, ada, own.Y, adb);
  const isk = intermediateSessionKey(inputs.sid, k, transcript);
  return {
    isk,
    confirmA: derive(isk, inputs.sid, 'confirm A', MAC_KEY_BYTES),
    confirmB: derive(isk, inputs.sid, 'confirm B', MAC_KEY_BYTES),
    sealA: derive(isk, inputs.sid, 'seal A', SEAL_KEY_BYTES),
    sealB: derive(isk, inputs.sid, 'seal B', SEAL_KEY_BYTES),
    verifier: derive(isk, inputs.sid, 'verifier', VERIFIER_BYTES),
    transcript,
  };
}

/** A confirmation tag: HMAC-SHA512 over the whole transcript, with the sender's own direction key. */
export function confirmationTag(keys: SessionKeys, from: 'A' | 'B'): Uint8Array {
  return hmac(sha512, from === 'A' ? keys.confirmA : keys.confirmB, keys.transcript);
}

/** Checks the other side's tag in constant time. */
export function checkTag(keys: SessionKeys, from: 'A' | 'B', tag: Uint8Array): boolean {
  const want = confirmationTag(keys, from);
  return tag.length === want.length && timingSafeEqual(tag, want);
}
