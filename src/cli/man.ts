// The man page, git-autosync(1), from the same tables as the usage (usage.ts). git turns
// `git autosync --help` into `man git-autosync`, so the page is what most people read first.
// `node dist/src/cli/man.js --write` (run by `npm run build`) writes man/git-autosync.1, which npm
// installs through package.json's "man" field; a unit test checks the committed page is current.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GLOBAL_FLAGS, VERBS, synopsis, type FlagSpec } from './usage.js';

/** Where the page lives, relative to the package root (package.json "man" names it). */
export const MAN_PATH = 'man/git-autosync.1';

/** Text for roff: backslashes and dashes escaped, a line never starts with a control character. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

function flagItem(f: FlagSpec): string[] {
  const label = f.name === '-h' ? '\\fB\\-h\\fR, \\fB\\-\\-help\\fR' : `\\fB${roff(f.name)}\\fR`;
  return ['.TP', f.value ? `${label} \\fI${roff(f.value)}\\fR` : label, roff(f.help)];
}

export function manPage(version: string): string {
  const out: string[] = [
    `.TH GIT\\-AUTOSYNC 1 "" "git\\-autosync ${roff(version)}" "git\\-autosync manual"`,
    '.SH NAME',
    'git\\-autosync \\- keep every clone of a git or git\\-annex repository in sync',
    '.SH SYNOPSIS',
    '.B git autosync',
    '[\\fB\\-C\\fR \\fIpath\\fR] [\\fB\\-\\-debug\\fR] \\fIverb\\fR [\\fIoptions\\fR]',
    '.SH DESCRIPTION',
    roff(
      'Each clone runs an agent that watches the work tree, commits changes in batches, pushes to ' +
        'every remote at once, and merges what its peers push, keeping both versions of any ' +
        'conflicting edit. Configuration is read from git config, section autosync; README.md lists ' +
        'every key.',
    ),
    '.SH OPTIONS',
    'Every verb takes these, before or after the verb.',
    ...GLOBAL_FLAGS.flatMap(flagItem),
    '.SH VERBS',
  ];
  for (const v of VERBS) {
    out.push('.SS ' + roff(synopsis(v)), roff(v.description));
    const flags = v.flags.filter((f) => !f.hidden);
    if (flags.length > 0) out.push('.RS', ...flags.flatMap(flagItem), '.RE');
  }
  out.push(
    '.SH EXIT STATUS',
    roff('0 ok, 1 failed, 2 bad usage or bad input; an error is one line on stderr that says what to do.'),
  );
  for (const v of VERBS) {
    out.push(
      '.TP',
      `\\fB${roff(v.name)}\\fR`,
      ...([0, 1, 2] as const).flatMap((c) => ['.br', roff(`${c}: ${v.exits[c]}`)]).slice(1),
    );
  }
  out.push(
    '.SH FILES',
    '.TP',
    '\\fI.git/autosync/\\fR',
    roff('everything the agent keeps: agent.pid, agent.log (JSON lines), control.sock, key (mode 0600)'),
    '.SH SEE ALSO',
    '\\fBgit\\fR(1), \\fBgit\\-annex\\fR(1); README.md and docs/ in the package',
  );
  return out.join('\n') + '\n';
}

/** The version in package.json, so the page names the release it came with. */
export function packageVersion(root: string): string {
  return (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;
}

/** The package root, from dist/src/cli/man.js. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === '--write') {
  mkdirSync(dirname(PACKAGE_ROOT + MAN_PATH), { recursive: true });
  writeFileSync(PACKAGE_ROOT + MAN_PATH, manPage(packageVersion(PACKAGE_ROOT)));
}
