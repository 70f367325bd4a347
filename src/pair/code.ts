// The pairing code: `<nameplate>-<word>-<word>-<word>`, like 7-brave-otter-lucky, and its long form
// to paste, which also carries the rendezvous address. Pure parse and format functions.
//
// - The nameplate (a number) is public: it names the rendezvous (the room), so the server sees it.
//   It is never derived from the words.
// - The words are the secret, one byte each (src/pair/words.ts), and the PAKE's password. They
//   alternate between two lists, and a code has an odd number of words (3, 5 or 7), so it starts and
//   ends with a word of the first list. That is the parity, checked locally: a dropped or doubled
//   word makes the count even, a swapped one puts a word where its list does not belong; a typo
//   gives an unknown word, with the word meant suggested.
// - An error's message never holds what was typed (a word of it is, or is near, a secret word) and
//   may reach a log or JSON; what was typed and the word suggested go in `terminalHint`, for the
//   terminal the user typed on only.
// - The long form, `autosync-pair:<short code>:<address>`, adds the rendezvous address as base64url
//   JSON. Every field of it is checked here (an XMPP address, a room address, an xmpp(s):// service)
//   before anything uses it, so nothing in a pasted code becomes a path, an option or a URL unchecked.
import { AutosyncError } from '../core/errors.js';
import { jidProblem, roomProblem, serviceProblem } from '../signal/validate.js';
import { EVEN_WORDS, ODD_WORDS } from './words.js';

/** Three words, 24 bits: one guess per offer has a 1 in 16.7 million chance (words.ts). */
export const DEFAULT_WORDS = 3;
/** Fewer than 2 words (16 bits) is too easy to guess even once per offer; 3 is the floor we accept. */
export const MIN_WORDS = 3;
/** 7 words are 56 bits, far past what one online guess can threaten; more is only harder to type. */
export const MAX_WORDS = 7;
/** Nameplates are short numbers to say aloud; 4 digits leave room for many open offers at once. */
export const MAX_NAMEPLATE = 9999;
/** The long form's prefix: names what the text is when it is pasted somewhere unexpected. */
export const LONG_PREFIX = 'autosync-pair:';
/** A JID is at most 3071 bytes (RFC 7622); two addresses and a service in base64 fit in 8 KiB. */
const MAX_LONG_ADDRESS = 8 * 1024;
/** A short code is under 70 characters (4 digits, 7 words of 8 letters); 256 leaves room for blanks
 * and bounds the work a pasted blob can cause (the suggestion search is quadratic in a word). */
export const MAX_CODE_TEXT = 256;
/** The longest input parseCode reads: the long form's prefix, short code, address, and blanks around. */
const MAX_INPUT = LONG_PREFIX.length + MAX_CODE_TEXT + 1 + MAX_LONG_ADDRESS + MAX_CODE_TEXT;

/** Where the two devices meet (src/pair/rendezvous*.ts reads it): one of `jid` (same account) or `room`. */
export interface RendezvousAddress {
  /** Same-account mode: the offering account's bare JID; the accepter logs in to the same account. */
  jid?: string;
  /** Different accounts: the temporary room's bare JID (named after the nameplate). */
  room?: string;
  /** The XMPP service to connect to, xmpp://host:port or xmpps://host:port, when not found from the JID. */
  service?: string;
}

export interface PairCode {
  nameplate: number;
  /** The secret words, lower case, in order. */
  words: string[];
  /** Present when the code came in its long form. */
  rendezvous?: RendezvousAddress;
}

export type CodeProblem =
  | 'empty'
  | 'nameplate'
  | 'too-few-words'
  | 'too-many-words'
  | 'word-count'
  | 'unknown-word'
  | 'word-order'
  | 'too-long'
  | 'long-form';

/** A code that cannot be right, found before any attempt is spent: the message says what to do. */
export class PairCodeError extends AutosyncError {
  /**
   * What was typed, and the word meant when one is near: for the terminal the code was typed on
   * only, never a log, status or JSON (it holds, or is near, a secret word). Not enumerable, so
   * JSON.stringify and object spreads leave it out.
   */
  declare readonly terminalHint: string | undefined;
  constructor(
    message: string,
    readonly problem: CodeProblem,
    terminalHint?: string,
  ) {
    super(message, `pair-code-${problem}`);
    this.name = 'PairCodeError';
    Object.defineProperty(this, 'terminalHint', { value: terminalHint, enumerable: false });
  }
}

const ODD_INDEX = new Map(ODD_WORDS.map((w, i) => [w, i]));
const EVEN_INDEX = new Map(EVEN_WORDS.map((w, i) => [w, i]));

/** The list word number `pos` (0-based) comes from. */
function listAt(pos: number): readonly string[] {
  return pos % 2 === 0 ? ODD_WORDS : EVEN_WORDS;
}
function indexAt(pos: number): Map<string, number> {
  return pos % 2 === 0 ? ODD_INDEX : EVEN_INDEX;
}

/** A new code: the nameplate the rendezvous picked, and one word per random byte. */
export function newCode(nameplate: number, random: Uint8Array): PairCode {
  if (!Number.isInteger(nameplate) || nameplate < 1 || nameplate > MAX_NAMEPLATE)
    throw new PairCodeError(`a nameplate is a number from 1 to ${MAX_NAMEPLATE}`, 'nameplate');
  if (random.length < MIN_WORDS || random.length > MAX_WORDS || random.length % 2 === 0)
    throw new PairCodeError(
      `a code has 3, 5 or 7 words`,
      random.length < MIN_WORDS
        ? 'too-few-words'
        : random.length > MAX_WORDS
          ? 'too-many-words'
          : 'word-count',
    );
  return { nameplate, words: [...random].map((b, i) => listAt(i)[b]!) };
}

/** The short form, to read aloud: 7-brave-otter-lucky. */
export function formatCode(code: PairCode): string {
  return [String(code.nameplate), ...code.words].join('-');
}

/** The long form, to paste: the short code and the rendezvous address (checked first). */
export function formatLongCode(code: PairCode, at: RendezvousAddress): string {
  const problem = addressProblem(at);
  if (problem) throw new PairCodeError(`the rendezvous address ${problem}`, 'long-form');
  const json = JSON.stringify({ jid: at.jid, room: at.room, service: at.service });
  return `${LONG_PREFIX}${formatCode(code)}:${Buffer.from(json, 'utf8').toString('base64url')}`;
}

/** The password the PAKE uses: the words only (the public nameplate goes into CPace's CI). */
export function codeSecret(code: PairCode): Uint8Array {
  return new TextEncoder().encode(code.words.join('-'));
}

/** Restricted Damerau-Levenshtein distance (a swap of neighbours is one edit), for suggestions. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The longest word of either list: a typed word longer by more than 2 is no 2 edits from any. */
const LONGEST_WORD = Math.max(...[...ODD_WORDS, ...EVEN_WORDS].map((w) => w.length));

/** The word of `list` closest to `typed`, when it is within 2 edits and no other word is as close. */
function suggest(typed: string, list: readonly string[]): string | null {
  if (typed.length > LONGEST_WORD + 2) return null;
  let best: string | null = null;
  let bestD = 3;
  let tie = false;
  for (const w of list) {
    const dist = editDistance(typed, w);
    if (dist < bestD) [best, bestD, tie] = [w, dist, false];
    else if (dist === bestD) tie = true;
  }
  return tie ? null : best;
}

/** Word positions named in errors, up to MAX_WORDS. */
const ORDINAL = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh'];
/** The code errors show as a model: a real code of the lists (brave, lucky: odd; otter: even). */
const EXAMPLE = '7-brave-otter-lucky';

/** Shown for words that cannot be placed: a typo, or a code from somewhere else. */
function shown(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s);
}

/**
 * Reads a code as a person types it: any case, words split by "-" or spaces, surrounding blanks
 * ignored; or the long form. Throws PairCodeError, one cause and what to do, for anything else.
 */
export function parseCode(input: string): PairCode {
  if (input.length > MAX_INPUT) throw tooLong();
  const text = input.trim();
  if (text === '')
    throw new PairCodeError(
      `no code was given: type the code the other device shows, like ${EXAMPLE}`,
      'empty',
    );
  if (text.toLowerCase().startsWith(LONG_PREFIX)) return parseLong(text.slice(LONG_PREFIX.length));
  return parseShort(text);
}

function tooLong(): PairCodeError {
  return new PairCodeError(
    `that is far longer than a pairing code (at most ${MAX_CODE_TEXT} characters, the long form its address more): type only the code the other device shows`,
    'too-long',
  );
}

function parseShort(text: string): PairCode {
  if (text.length > MAX_CODE_TEXT) throw tooLong();
  const parts = text
    .toLowerCase()
    .split(/[\s-]+/)
    .filter(Boolean);
  const first = parts.shift() ?? '';
  if (!/^[1-9][0-9]{0,3}$/.test(first))
    throw new PairCodeError(
      `a code starts with the number the other device shows (the 7 of ${EXAMPLE})`,
      'nameplate',
      `it starts with ${shown(first)}`,
    );
  if (parts.length < MIN_WORDS)
    throw new PairCodeError(
      `the code has ${parts.length} word${parts.length === 1 ? '' : 's'} after the number, and a code has at least ${MIN_WORDS}: type all the words the other device shows`,
      'too-few-words',
    );
  if (parts.length > MAX_WORDS)
    throw new PairCodeError(
      `the code has ${parts.length} words after the number, and a code has at most ${MAX_WORDS}: type only the code the other device shows`,
      'too-many-words',
    );
  if (parts.length % 2 === 0)
    throw new PairCodeError(
      `the code has ${parts.length} words after the number, and a code has 3, 5 or 7: a word is missing or doubled; compare the code with the other screen (nothing was sent, the code is still good)`,
      'word-count',
    );
  parts.forEach((w, pos) => {
    if (indexAt(pos).has(w)) return;
    const where = ORDINAL[pos]!;
    if (indexAt(pos + 1).has(w))
      throw new PairCodeError(
        `the ${where} word belongs at another place: a word is missing, doubled or two words are swapped; compare the code with the other screen (nothing was sent, the code is still good)`,
        'word-order',
        `${shown(w)} cannot be the ${where} word`,
      );
    const near = /^[a-z]+$/.test(w) ? suggest(w, listAt(pos)) : null;
    throw new PairCodeError(
      `the ${where} word is not a pairing word. Check the code on the other screen (nothing was sent, the code is still good)`,
      'unknown-word',
      `${shown(w)} is not a pairing word${near ? `; did you mean "${near}"?` : ''}`,
    );
  });
  return { nameplate: Number(first), words: parts };
}

function parseLong(rest: string): PairCode {
  const colon = rest.lastIndexOf(':');
  const bad = (why: string) =>
    new PairCodeError(
      `the pasted code is not a whole pairing code (${why}): copy it again from the other device, or type the short code`,
      'long-form',
    );
  if (colon < 0) throw bad('it has no address part');
  const address = rest.slice(colon + 1).trim();
  if (address.length === 0 || address.length > MAX_LONG_ADDRESS || !/^[A-Za-z0-9_-]+$/.test(address))
    throw bad('its address part is not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(address, 'base64url').toString('utf8'));
  } catch {
    throw bad('its address part does not decode');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw bad('its address is not an object');
  const fields = parsed as Record<string, unknown>;
  for (const k of Object.keys(fields))
    if (k !== 'jid' && k !== 'room' && k !== 'service')
      throw bad(`its address has an unknown field ${shown(k)}`);
  const at: RendezvousAddress = {};
  for (const k of ['jid', 'room', 'service'] as const) {
    const v = fields[k];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw bad(`its ${k} is not text`);
    at[k] = v;
  }
  const problem = addressProblem(at);
  if (problem) throw bad(`the rendezvous address ${problem}`);
  return { ...parseShort(rest.slice(0, colon)), rendezvous: at };
}

/** Why a rendezvous address is refused, or null. Exactly one of jid and room; each checked as config is. */
export function addressProblem(at: RendezvousAddress): string | null {
  if ((at.jid === undefined) === (at.room === undefined))
    return 'must have exactly one of an account or a room';
  if (at.jid !== undefined) {
    const p = jidProblem(at.jid);
    if (p) return `account ${p}`;
  }
  if (at.room !== undefined) {
    const p = roomProblem(at.room);
    if (p) return `room ${p}`;
  }
  if (at.service !== undefined) {
    const p = serviceProblem(at.service);
    if (p) return `service ${p}`;
  }
  return null;
}
