// git commands as {args, parse} records: the argument vector and a pure parser of the output. They
// are unit-tested against captured output; the Runner is the only thing that executes them.
import { pushRefusal } from './errors.js';
import type { Command, RunResult } from './runner.js';
import { isSha, SHA_PATTERN } from './sha.js';

export { isSha } from './sha.js';

/** One entry of `git merge-tree --write-tree` conflicts: mode, object, stage, path. */
const CONFLICT_ENTRY_RE = new RegExp(`^(\\d{6}) (${SHA_PATTERN}) ([123])\t(.*)$`, 's');

/** `git for-each-ref` over the given patterns: ref name -> sha. */
export function forEachRef(patterns: string[]): Command<Map<string, string>> {
  return {
    args: ['for-each-ref', '--format=%(objectname) %(refname)', ...patterns],
    parse: (r) => parseForEachRef(r.stdout),
  };
}

export function parseForEachRef(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf(' ');
    if (i <= 0) continue;
    const sha = line.slice(0, i);
    if (isSha(sha)) m.set(line.slice(i + 1), sha);
  }
  return m;
}

/** `merge-base --is-ancestor a b`: exit 0 yes, 1 no. */
export function isAncestor(a: string, b: string): Command<boolean> {
  return { args: ['merge-base', '--is-ancestor', a, b], okCodes: [1], parse: (r) => r.code === 0 };
}

export interface StatusEntry {
  /** Two-letter XY code from `status --porcelain=v1`. */
  xy: string;
  path: string;
  /** For renames and copies: the source path. */
  from?: string;
}

/**
 * Every path that differs from HEAD in the index or the work tree, untracked files included. A
 * submodule is listed when its checked-out commit differs from the recorded one (a gitlink change,
 * ` M sub`), not for edits inside its work tree (those are the submodule's to commit).
 */
export function status(): Command<StatusEntry[]> {
  return {
    args: [
      'status',
      '--porcelain=v1',
      '-z',
      '--untracked-files=all',
      '--no-renames',
      '--ignore-submodules=dirty',
    ],
    parse: (r) => parseStatusZ(r.stdout),
  };
}

export function parseStatusZ(stdout: string): StatusEntry[] {
  const parts = stdout.split('\0');
  const out: StatusEntry[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.length < 4) continue;
    const xy = p.slice(0, 2);
    const entry: StatusEntry = { xy, path: p.slice(3) };
    if (xy[0] === 'R' || xy[0] === 'C') entry.from = parts[++i];
    out.push(entry);
  }
  return out;
}

export interface MergeTreeResult {
  tree: string;
  clean: boolean;
  /** Conflicted paths with their stage entries (1 base, 2 first side, 3 second side). */
  conflicts: Map<string, Map<1 | 2 | 3, { mode: string; oid: string }>>;
}

/**
 * `merge-tree --write-tree -z a b`: merges two commits without touching the index, the work tree or
 * any ref. Exit 1 means "conflicts", not failure.
 */
export function mergeTree(a: string, b: string): Command<MergeTreeResult> {
  return {
    args: ['merge-tree', '--write-tree', '-z', '--allow-unrelated-histories', a, b],
    okCodes: [1],
    parse: parseMergeTree,
  };
}

export function parseMergeTree(r: RunResult): MergeTreeResult {
  const parts = r.stdout.split('\0');
  const tree = parts[0] ?? '';
  if (!isSha(tree)) throw new Error(`merge-tree: unexpected output ${JSON.stringify(r.stdout.slice(0, 80))}`);
  const conflicts: MergeTreeResult['conflicts'] = new Map();
  // Conflicted-file entries follow the tree until the first empty field; informational messages follow.
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === '') break;
    const m = CONFLICT_ENTRY_RE.exec(p);
    if (!m) continue;
    const [, mode, oid, stage, path] = m;
    let stages = conflicts.get(path!);
    if (!stages) conflicts.set(path!, (stages = new Map()));
    stages.set(Number(stage) as 1 | 2 | 3, { mode: mode!, oid: oid! });
  }
  return { tree, clean: r.code === 0, conflicts };
}

/** Committer time (unix seconds) of a commit. */
export function commitTime(rev: string): Command<number> {
  return { args: ['show', '-s', '--format=%ct', rev, '--'], parse: (r) => Number(r.stdout.trim()) };
}

export interface PushRefResult {
  flag: string;
  from: string;
  to: string;
  summary: string;
  ok: boolean;
  /** Refused because the remote has work we lack. */
  nonFastForward: boolean;
  /** Refused because the ref is the remote's checked-out branch (a non-bare peer). */
  checkedOut: boolean;
}

/** `git push --porcelain` parser: one result per refspec. */
export function parsePushPorcelain(stdout: string): PushRefResult[] {
  const out: PushRefResult[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^([ +\-*=!])\t([^:]*):([^\t]*)\t(.*)$/.exec(line);
    if (!m) continue;
    const [, flag, from, to, summary] = m;
    const refusal = pushRefusal(summary!);
    out.push({
      flag: flag!,
      from: from!,
      to: to!,
      summary: summary!,
      ok: flag !== '!',
      nonFastForward: flag === '!' && refusal.nonFastForward,
      checkedOut: flag === '!' && refusal.checkedOut,
    });
  }
  return out;
}

/** Remote names with their URLs (fetch). */
export function remotes(): Command<Array<{ name: string; url: string }>> {
  return {
    args: ['config', '--get-regexp', '^remote\\..*\\.url$'],
    okCodes: [1],
    parse: (r) =>
      r.stdout
        .split('\n')
        .map((l) => /^remote\.(.+)\.url (.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ name: m[1]!, url: m[2]! })),
  };
}
