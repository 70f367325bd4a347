// Editor and OS temporary files that are never synced unless someone committed them on purpose:
// vim swap files, backup copies, lock files, Finder and Explorer metadata, half-done downloads.
// File-sync tools keep such a default list (Syncthing and Dropbox both do); this one is ours, and
// `autosync.ignore` (git config, multi-valued) changes it. Pure: a list of rules in, a matcher out.
//
// The matcher is consulted only for files git does not track yet: a tracked `notes.tmp` that someone
// committed on purpose keeps syncing. `.gitignore` works as it always does, beside this list.
//
// Rule syntax, close to .gitignore's (docs/ignore.md):
//  - a pattern without `/` matches a file or directory name at any depth (`*.tmp`, `.DS_Store`);
//    with `/` it matches the path from the top of the work tree (`build/out.log`, `/scratch`);
//    a directory that matches takes everything inside it along;
//  - `*` is any run of characters but `/`, `?` one such character, `[...]` a class (`[!...]` or
//    `[^...]` negated), `\` makes the next character literal;
//  - `!pattern` takes names matching it back out (the last rule that matches a name decides), so
//    `!*.tmp` turns that default off and `!keep.tmp` spares one name;
//  - `none` drops every rule before it, the defaults included;
//  - a value may hold several rules separated by white space.

/** The default rules, each with what makes it transient. */
export const DEFAULT_IGNORE: ReadonlyArray<readonly [pattern: string, why: string]> = [
  ['.*.sw[a-p]', "vim's swap files (.x.swp, then .x.swo, .x.swn, ... while older ones exist)"],
  ['*~', 'backup copies kept by vim, emacs, gedit and others (x~)'],
  // vim checks that it may create files in a directory by creating and deleting 4913; when that
  // name is taken it adds 123 and tries again.
  ['4913', "vim's write test file"],
  ['5036', "vim's write test file, when 4913 exists"],
  ['5159', "vim's write test file, when 4913 and 5036 exist"],
  ['*.kate-swp', "Kate's swap files"],
  ['#*#', "emacs's auto-save files (#x#)"],
  ['.#*', "emacs's lock links (.#x)"],
  ['.~lock.*#', "LibreOffice's lock files (.~lock.x.odt#)"],
  ['~$*', "Microsoft Office's owner files (~$x.docx)"],
  ['*.tmp', 'temporary files by convention'],
  ['.goutputstream-*', "GNOME's temporary files for a save in progress"],
  ['*.crdownload', "Chrome's downloads in progress"],
  ['*.part', "Firefox's downloads in progress"],
  ['.nfs*', 'files NFS keeps for a deleted file that is still open'],
  ['.DS_Store', "macOS Finder's folder settings"],
  ['._*', "macOS's resource forks on drives that lack them (AppleDouble)"],
  ['.Spotlight-V100', "macOS Spotlight's index"],
  ['.Trashes', "macOS's trash on a drive"],
  ['.fseventsd', "macOS's file event log on a drive"],
  ['Thumbs.db', "Windows Explorer's thumbnail cache"],
  ['ehthumbs.db', "Windows Media Center's thumbnail cache"],
  ['desktop.ini', "Windows Explorer's folder settings"],
];

/** The `autosync.ignore` value that drops the defaults (and every rule before it). */
export const IGNORE_NONE = 'none';

interface Rule {
  negate: boolean;
  /** Matched against the whole path (the pattern held a `/`), else against each name in it. */
  anchored: boolean;
  re: RegExp;
}

export interface IgnoreMatcher {
  /** Whether this work-tree path (relative, `/`-separated), were it untracked, is left out. */
  ignores(path: string): boolean;
  /** The rules in force, as given (for logs and docs). */
  readonly patterns: readonly string[];
}

/** A glob (the syntax above) as an anchored regular expression. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i]!);
    else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      let neg = false;
      if (body[0] === '!' || body[0] === '^') {
        neg = true;
        body = body.slice(1);
      }
      re += `[${neg ? '^/' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, 's');
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c;
}

/** The rules in force: the defaults, then each `autosync.ignore` value in order. */
export function ignoreRules(values: readonly string[]): string[] {
  let rules: string[] = DEFAULT_IGNORE.map(([p]) => p);
  for (const v of values) {
    for (const tok of v.split(/\s+/).filter(Boolean)) {
      if (tok === IGNORE_NONE) rules = [];
      else rules.push(tok);
    }
  }
  return rules;
}

export function ignoreMatcher(values: readonly string[] = []): IgnoreMatcher {
  const patterns = ignoreRules(values);
  const rules: Rule[] = [];
  for (const p of patterns) {
    const negate = p.startsWith('!');
    let body = negate ? p.slice(1) : p;
    if (body.endsWith('/')) body = body.slice(0, -1); // `dir/`: names a directory; matched the same
    if (body === '') continue;
    const anchored = body.includes('/');
    if (body.startsWith('/')) body = body.slice(1);
    rules.push({ negate, anchored, re: globToRegExp(body) });
  }
  const decide = (name: string, whole: string): boolean => {
    let ignored = false;
    for (const r of rules) if (r.re.test(r.anchored ? whole : name)) ignored = !r.negate;
    return ignored;
  };
  return {
    patterns,
    ignores(path: string): boolean {
      if (rules.length === 0) return false;
      const parts = path.split('/');
      // A directory that is ignored takes its contents along, as in .gitignore.
      for (let i = 0; i < parts.length; i++) {
        if (decide(parts[i]!, parts.slice(0, i + 1).join('/'))) return true;
      }
      return false;
    },
  };
}
