// File names that are not valid UTF-8 (a Latin-1 `caf\xe9.txt` from an old archive, say). To git a
// path is a string of bytes and it stores any of them; Node's watchers and our runner decode names
// as UTF-8, which turns every invalid byte into U+FFFD, and a name so decoded names no file. The
// engine keeps string paths everywhere; only here, and in a small set inside the committer, are such
// names handled as what they are: Buffers, read from git as bytes and handed back to git as bytes.
import { isUtf8 } from 'node:buffer';
import { lstatSync } from 'node:fs';
import type { Runner, RunOptions } from './runner.js';
import type { RepoInfo } from './repo.js';
import { status } from './commands.js';

/** What UTF-8 decoding puts in place of an invalid byte: a decoded name holding it may be mangled. */
export const REPLACEMENT_CHAR = '\uFFFD';

/** Literal pathspecs, as everywhere else: a directory named `*` means that directory. */
const LITERAL: RunOptions['env'] = { GIT_LITERAL_PATHSPECS: '1' };
/** Bound of the git-annex step: a base for start-up and locks, plus hashing at a slow disk's 20 MB/s. */
const ANNEX_BASE_MS = 60_000;
const ANNEX_BYTES_PER_MS = 20_000;

/** How long staging `bytes` in annex mode may take before it counts as hung (GitSync uses it too). */
export function annexStageTimeoutMs(bytes: number): number {
  return ANNEX_BASE_MS + Math.ceil(bytes / ANNEX_BYTES_PER_MS);
}

/** True when a decoded name may stand for bytes that are not UTF-8 (it holds U+FFFD). */
export function mayBeMangled(decoded: string): boolean {
  return decoded.includes(REPLACEMENT_CHAR);
}

export function isUtf8Name(name: Buffer): boolean {
  return isUtf8(name);
}

/**
 * A printable, unambiguous form of a file name for logs, status and map keys: C-style in double
 * quotes, the way `git status` shows unusual names. Valid UTF-8 stays readable; a byte that is not
 * part of a valid UTF-8 character, a control character, `"` and `\` are escaped (octal, as git
 * does), so the form decodes back to exactly one byte string.
 */
export function quoteName(name: Buffer): string {
  let out = '"';
  let i = 0;
  while (i < name.length) {
    const b = name[i]!;
    const len = utf8Length(name, i);
    if (len === 0) {
      out += octal(b);
      i++;
    } else if (len === 1) {
      if (b === 0x22) out += '\\"';
      else if (b === 0x5c) out += '\\\\';
      else if (b < 0x20 || b === 0x7f) out += CONTROL_ESCAPES[b] ?? octal(b);
      else out += String.fromCharCode(b);
      i++;
    } else {
      const ch = name.subarray(i, i + len);
      // C1 controls (U+0080..U+009F) are valid UTF-8 but print as nothing: escape their bytes too.
      if (len === 2 && b === 0xc2 && name[i + 1]! < 0xa0) out += octal(ch[0]!) + octal(ch[1]!);
      else out += ch.toString('utf8');
      i += len;
    }
  }
  return out + '"';
}

const CONTROL_ESCAPES: Record<number, string> = {
  0x07: '\\a',
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0b: '\\v',
  0x0c: '\\f',
  0x0d: '\\r',
};

function octal(b: number): string {
  return '\\' + b.toString(8).padStart(3, '0');
}

/**
 * Length of the well-formed UTF-8 character starting at i (1 to 4), or 0 when the byte there does
 * not start one: a stray continuation byte, an overlong form, a surrogate, beyond U+10FFFF, or a
 * sequence cut short. These are the rules of RFC 3629, the same ones isUtf8 applies.
 */
export function utf8Length(buf: Buffer, i: number): number {
  const b0 = buf[i]!;
  if (b0 < 0x80) return 1;
  let len: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) len = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    if (b0 === 0xe0) lo = 0xa0; // overlong below U+0800
    if (b0 === 0xed) hi = 0x9f; // UTF-16 surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    if (b0 === 0xf0) lo = 0x90; // overlong below U+10000
    if (b0 === 0xf4) hi = 0x8f; // beyond U+10FFFF
  } else return 0;
  if (i + len > buf.length) return 0;
  const b1 = buf[i + 1]!;
  if (b1 < lo || b1 > hi) return 0;
  for (let k = 2; k < len; k++) {
    const c = buf[i + k]!;
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return len;
}

export interface RawStatusEntry {
  xy: string;
  path: Buffer;
}

/** `git status --porcelain=v1 -z` read as bytes (same layout as parseStatusZ, names kept exact). */
export function parseStatusZBytes(stdout: Buffer): RawStatusEntry[] {
  const out: RawStatusEntry[] = [];
  const fields = splitNul(stdout);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.length < 4) continue;
    const xy = f.subarray(0, 2).toString('latin1');
    out.push({ xy, path: f.subarray(3) });
    if (xy[0] === 'R' || xy[0] === 'C') i++; // the source name of a rename or copy follows
  }
  return out;
}

/** Splits NUL-separated fields; a trailing NUL ends the last field rather than opening an empty one. */
export function splitNul(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const end = buf.indexOf(0, start);
    if (end < 0) {
      if (start < buf.length) out.push(buf.subarray(start));
      return out;
    }
    out.push(buf.subarray(start, end));
    start = end + 1;
  }
}

/** Names joined for `-z --stdin` style input: each followed by a NUL. */
export function joinNul(names: readonly Buffer[]): Buffer {
  return Buffer.concat(names.flatMap((n) => [n, NUL]));
}
const NUL = Buffer.from([0]);

/** Absolute path of a work-tree name, as bytes (fs functions take a Buffer path as is). */
export function absName(workTree: string, name: Buffer): Buffer {
  return Buffer.concat([Buffer.from(workTree + '/', 'utf8'), name]);
}

/**
 * Names that differ from HEAD (as `GitSync.pendingPaths` finds them) and are not valid UTF-8,
 * optionally only below some directories. Untracked nested repositories (`dir/` entries) are left
 * alone there, and here.
 */
export async function rawPendingNames(
  runner: Runner,
  under: string[] = [],
  ignores: (decoded: string) => boolean = () => false,
): Promise<Buffer[]> {
  const args = status().args;
  if (under.length > 0) args.push('--', ...under);
  const r = await runner.gitBytes(args, { env: LITERAL });
  // ignores: the transient-file rules (GitSync.ignore), for untracked names, matched on the decoded
  // name (the rules are ASCII; an invalid byte decodes to U+FFFD, which no rule character matches).
  return parseStatusZBytes(r.stdout)
    .filter((e) => !(e.xy === '??' && ignores(e.path.toString('utf8'))))
    .map((e) => e.path)
    .filter((p) => !isUtf8Name(p) && p[p.length - 1] !== 0x2f);
}

/**
 * Stages names by their exact bytes: present ones are added or updated, missing ones removed. In
 * both modes one `update-index` (the same staging GitSync uses for string paths); in annex mode
 * git-annex's clean filter decides git or annex by annex.largefiles. The names come from `git status`, which never lists an ignored untracked file, so
 * there is no separate ignore check. Must run where GitSync stages: inside its commit.
 */
export async function stageRawNames(runner: Runner, info: RepoInfo, names: Buffer[]): Promise<void> {
  const present: Buffer[] = [];
  const gone: Buffer[] = [];
  let bytes = 0;
  for (const n of names) {
    try {
      bytes += lstatSync(absName(info.workTree, n)).size;
      present.push(n);
    } catch {
      gone.push(n);
    }
  }
  const all = [...present, ...gone];
  if (all.length === 0) return;
  // --remove drops a name that is missing from the work tree; --replace lets a file replace a
  // directory of the same name (or the reverse).
  const stage = (which: Buffer[], config: string[], timeoutMs?: number) =>
    which.length === 0
      ? Promise.resolve()
      : runner.git([...config, 'update-index', '--add', '--remove', '--replace', '-z', '--stdin'], {
          input: joinNul(which),
          timeoutMs,
        });
  if (info.mode === 'git') return void (await stage(all, []));
  // Annex mode: git-annex's clean filter annexes or leaves to git (see annexStaging).
  const timeoutMs = annexStageTimeoutMs(bytes);
  for (const g of await annexStaging(runner, all)) await stage(g.names, g.config, timeoutMs);
}

/**
 * How annex mode stages names with `git update-index`, which runs git-annex's clean filter on each
 * file: it annexes the file or leaves it to git by annex.largefiles and annex.dotfiles, and keeps
 * annexed files unlocked. GitSync.stageAnnex says why not `git annex add`. Returns the groups of
 * names with the `-c` options each needs:
 *  - `annex.gitaddtoannex=true` always: the agent annexes by the rules even where a person turned
 *    that off for their own `git add`s, or big files would go into git;
 *  - `annex.largefiles=anything` for names no rule covers (none in git config, none in
 *    .gitattributes): `git annex add` annexes every non-dot file then, git's filter would not. It is
 *    not passed for the others, since a command-line value would override their .gitattributes rule.
 */
export async function annexStaging(
  runner: Runner,
  names: Buffer[],
): Promise<Array<{ names: Buffer[]; config: string[] }>> {
  if (names.length === 0) return [];
  const base = ['-c', 'annex.gitaddtoannex=true'];
  const configured = await runner.git(['config', 'annex.largefiles'], { okCodes: [1] });
  if (configured.stdout.trim() !== '') return [{ names, config: base }];
  const attr = await runner.gitBytes(['check-attr', '-z', '--stdin', 'annex.largefiles'], {
    input: joinNul(names),
  });
  // Records of name, attribute, value; "unspecified" means no rule. Names compared as bytes.
  const f = splitNul(attr.stdout);
  const ruled = new Set<string>();
  for (let i = 0; i + 2 < f.length; i += 3) {
    if (f[i + 2]!.toString('latin1') !== 'unspecified') ruled.add(f[i]!.toString('latin1'));
  }
  const isRuled = (n: Buffer) => ruled.has(n.toString('latin1'));
  return [
    { names: names.filter((n) => !isRuled(n)), config: [...base, '-c', 'annex.largefiles=anything'] },
    { names: names.filter(isRuled), config: base },
  ].filter((g) => g.names.length > 0);
}
