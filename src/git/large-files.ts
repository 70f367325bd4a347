// Large files that went into git itself (not git-annex): found after staging, for a warning in the
// log and in status. Every clone keeps every version of such a file forever, each push carries it,
// and hosting sites refuse it (GitHub warns at 50 MB and rejects files over 100 MB). In an annex
// repository the warning says why git-annex left it to git, from the same rules its clean filter
// applied (annex.largefiles in .gitattributes or git config, annex.dotfiles).
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from './runner.js';
import type { RepoInfo } from './repo.js';

/**
 * Default threshold (autosync.largeFileWarning, bytes): 50 MiB, about where GitHub starts warning
 * (50 MB; it refuses 100 MB) and where one file dominates the packs every clone fetches.
 */
export const DEFAULT_LARGE_FILE_WARNING = 50 * 1024 * 1024;
/** More files than this in one commit are not looked at one by one (a bulk import): the first ones
 * are, which is enough to say so. */
const MAX_CHECKED = 100;

export interface LargeFile {
  path: string;
  size: number;
  message: string;
}

/** What decided, in an annex repository, that a file goes to git. */
export interface AnnexRules {
  /** The annex.largefiles attribute of the file ('unspecified' when no .gitattributes rule). */
  attr: string;
  /** git config annex.largefiles, or null. */
  config: string | null;
  /** git config annex.dotfiles is true. */
  dotfiles: boolean;
}

export function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** A file (or one of its directories) whose name starts with a dot: git-annex's "dotfile". */
export function isDotfile(path: string): boolean {
  return path.split('/').some((s) => s.startsWith('.'));
}

/** The warning for one large file in git; rules is null in a plain git repository. Pure. */
export function largeFileMessage(path: string, size: number, rules: AnnexRules | null): string {
  const head = `${path} is ${mib(size)} and went into git itself: every clone keeps every version of it, and hosts refuse big files (GitHub warns at 50 MB, rejects 100 MB)`;
  if (!rules)
    return `${head}; keep files like this in git-annex instead (git annex init, then set annex.largefiles, e.g. largerthan=10mb)`;
  if (isDotfile(path) && !rules.dotfiles && rules.attr === 'unspecified')
    return `${head}; git-annex leaves dotfiles to git unless annex.dotfiles is true (git config annex.dotfiles true)`;
  if (rules.attr !== 'unspecified' && rules.attr !== 'unset')
    return `${head}; its annex.largefiles rule in .gitattributes (${rules.attr}) does not match it: change the rule to annex it`;
  if (rules.config)
    return `${head}; annex.largefiles in git config (${rules.config}) does not match it: change it to annex files like this`;
  return `${head}; git-annex left it to git: check annex.largefiles (git annex matchexpression) for this file`;
}

/**
 * The staged files (added or modified, paths as in the work tree) whose content in the index, not
 * a git-annex pointer, is at least `threshold` bytes, with the warning for each. Files smaller on
 * disk are never looked at, so a commit of small files costs one lstat each and no git call.
 */
export async function largeInGit(
  runner: Runner,
  info: RepoInfo,
  staged: string[],
  threshold: number,
): Promise<LargeFile[]> {
  if (threshold <= 0) return [];
  const big: string[] = [];
  for (const p of staged) {
    if (p.includes('\n')) continue; // cannot be named on cat-file's line input; rare enough
    try {
      const st = lstatSync(join(info.workTree, p));
      if (st.isFile() && st.size >= threshold) big.push(p);
    } catch {
      // gone since it was staged
    }
    if (big.length >= MAX_CHECKED) break;
  }
  if (big.length === 0) return [];
  // The blob in the index: the file's content when it went to git, a few bytes when annexed.
  const r = await runner.git(['cat-file', '--batch-check=%(objectsize)'], {
    input: big.map((p) => `:0:${p}\n`).join(''),
  });
  const sizes = r.stdout.split('\n');
  const inGit = big
    .map((path, i) => ({ path, size: Number(sizes[i]) }))
    .filter((f) => Number.isFinite(f.size) && f.size >= threshold);
  if (inGit.length === 0) return [];
  let rules: (path: string) => AnnexRules | null = () => null;
  if (info.mode === 'annex') {
    const attrs = await runner.git(['check-attr', '-z', 'annex.largefiles', '--stdin'], {
      input: inGit.map((f) => f.path).join('\0') + '\0',
    });
    // -z output: path NUL attribute NUL value NUL, per path.
    const parts = attrs.stdout.split('\0');
    const attrOf = new Map<string, string>();
    for (let i = 0; i + 2 < parts.length; i += 3) attrOf.set(parts[i]!, parts[i + 2]!);
    const get = async (k: string) =>
      (await runner.git(['config', '--get', k], { okCodes: [1] })).stdout.trim() || null;
    const config = await get('annex.largefiles');
    const dotfiles = /^(true|yes|on|1)$/i.test((await get('annex.dotfiles')) ?? '');
    rules = (p) => ({ attr: attrOf.get(p) ?? 'unspecified', config, dotfiles });
  }
  return inGit.map((f) => ({ ...f, message: largeFileMessage(f.path, f.size, rules(f.path)) }));
}
