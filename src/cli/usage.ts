// The command line's one description of itself: every verb, its options and positionals, and what
// its exit codes mean. The argument parser (args.ts) reads the same tables, so an option exists only
// if it is listed here, and the usage, `help VERB`, `VERB --help` and the man page
// (man/git-autosync.1, written by man.ts at build) are all printed from them.

export interface FlagSpec {
  /** With the dashes: `--remote`. */
  name: string;
  /** The placeholder of the value it takes (`R`); absent for a boolean flag, which takes none. */
  value?: string;
  help: string;
  /** Internal (the background agent's own child): accepted, never listed. */
  hidden?: boolean;
}

export interface VerbSpec {
  name: string;
  /** One line, for the verb list. */
  summary: string;
  /** A few sentences, for `help VERB` and the man page. */
  description: string;
  flags: FlagSpec[];
  /** Placeholders of the positionals, in order; `max` may be larger when trailing ones are optional. */
  positionals: { names: string[]; min: number; max: number };
  /** What exit codes 0, 1 and 2 mean for this verb. */
  exits: { 0: string; 1: string; 2: string };
  /** The synopsis, when the one built from the flags is too long or hides that they are two forms. */
  synopsis?: string;
}

const NO_ARGS = { names: [], min: 0, max: 0 };
const REMOTE: FlagSpec = {
  name: '--remote',
  value: 'R',
  help: 'only the remote named R (one of `git remote`)',
};
const USAGE_2 = 'bad usage (an unknown option or verb, a missing or extra argument)';
const NOT_REPO = 'not a git repository with a work tree';

export const VERBS: VerbSpec[] = [
  {
    name: 'init',
    summary: 'prepare this repository (a wizard in a terminal)',
    description:
      'Prepares the repository: config defaults, the repository key, and git-annex init where the ' +
      'repository uses git-annex but this clone has not been initialised. Safe to run again: nothing ' +
      'is overwritten. In a terminal without --yes it asks for the XMPP account, the server, the room ' +
      'and the password (read without echo). The values given as options are checked before anything is ' +
      'written, and so is the configuration already there.',
    flags: [
      { name: '--yes', help: 'ask nothing: take the options and the defaults' },
      { name: '--jid', value: 'J', help: 'XMPP account, like alice@example.org (autosync.xmpp.jid)' },
      {
        name: '--room',
        value: 'R',
        help: 'room shared by the clones, like sync@conference.example.org (autosync.xmpp.room)',
      },
      {
        name: '--service',
        value: 'URI',
        help: 'XMPP server, xmpp://host:port or xmpps://host:port (autosync.xmpp.service); default: found from the domain of J',
      },
      { name: '--resource', value: 'N', help: "this clone's XMPP resource name (autosync.xmpp.resource)" },
    ],
    positionals: NO_ARGS,
    exits: {
      0: 'the repository is ready',
      1: 'a git or git-annex command failed, or .git/autosync cannot be written',
      2: `${USAGE_2}; a bad option value or configuration value (the line names the key); ${NOT_REPO}`,
    },
  },
  {
    name: 'start',
    summary: 'start the agent (background unless --foreground)',
    description:
      'Starts the agent for this repository and returns once it answers. It watches the work tree, ' +
      'commits changes in batches, pushes to every remote and merges what the other clones push. ' +
      'A second agent on the same repository is refused.',
    flags: [
      {
        name: '--foreground',
        help: 'keep the agent attached, log to stderr; SIGINT or SIGTERM stops it cleanly',
      },
      { name: '--daemon-child', help: 'internal: the background agent itself', hidden: true },
    ],
    positionals: NO_ARGS,
    exits: {
      0: 'the agent is running (or, with --foreground, stopped cleanly)',
      1: 'an agent already runs for this repository, .git/autosync cannot be written, or the agent failed to start',
      2: `${USAGE_2}; a bad configuration value (the line names the key); ${NOT_REPO}; HEAD is not on a branch`,
    },
  },
  {
    name: 'stop',
    summary: 'stop the agent; pending changes are committed first',
    description:
      'Asks the running agent to stop, and waits until it has committed what is pending, pushed once ' +
      'and exited.',
    flags: [],
    positionals: NO_ARGS,
    exits: {
      0: 'the agent stopped, or none was running (it says so)',
      1: 'the agent did not stop within 120 s',
      2: `${USAGE_2}; ${NOT_REPO}`,
    },
  },
  {
    name: 'status',
    summary: "show the agent's state (also when none runs)",
    description:
      'Prints the state of the agent: pending changes, each remote, the signal, transfers. It works ' +
      'when no agent runs, and then says so.',
    flags: [
      { name: '--json', help: 'print one JSON object (the fields are listed in README.md)' },
      { name: '--watch', help: 'print it again every half second until interrupted' },
    ],
    positionals: NO_ARGS,
    exits: {
      0: 'the state was printed, whether or not an agent runs',
      1: 'git or git-annex failed while reading the state',
      2: `${USAGE_2}; ${NOT_REPO}`,
    },
  },
  {
    name: 'sync',
    summary: 'one pass, no daemon: commit, fetch+merge, push',
    description:
      'Commits pending changes, fetches and merges every remote, and pushes to every remote, once. ' +
      'When an agent runs, the agent does the pass.',
    flags: [],
    positionals: NO_ARGS,
    exits: {
      0: 'every remote was synced (or there are none)',
      1: 'a remote failed; each failed remote is named on its own line',
      2: `${USAGE_2}; ${NOT_REPO}; HEAD is not on a branch`,
    },
  },
  {
    name: 'pause',
    summary: 'pause syncing (or one remote); commits continue',
    description:
      'Pauses pushing, fetching and transfers, with every remote or with one. The agent goes on ' +
      'committing locally. A pause lasts across restarts until resume.',
    flags: [REMOTE],
    positionals: NO_ARGS,
    exits: {
      0: 'paused',
      1: 'no agent is running',
      2: `${USAGE_2}; R is not a remote of this repository; ${NOT_REPO}`,
    },
  },
  {
    name: 'resume',
    summary: 'resume syncing (or one remote)',
    description: 'Ends a pause, with every remote or with one; what waited is delivered.',
    flags: [REMOTE],
    positionals: NO_ARGS,
    exits: {
      0: 'resumed',
      1: 'no agent is running',
      2: `${USAGE_2}; R is not a remote of this repository; ${NOT_REPO}`,
    },
  },
  {
    name: 'notify',
    summary: 'tell the agent a remote changed (for hooks)',
    description:
      'Tells the running agent that a remote has new commits, so it fetches now. Meant for a ' +
      'notifyCommand or a post-receive hook on the other side.',
    flags: [REMOTE],
    positionals: NO_ARGS,
    exits: {
      0: 'the agent was told',
      1: 'no agent is running',
      2: `${USAGE_2}; R is not a remote of this repository; ${NOT_REPO}`,
    },
  },
  {
    name: 'cancel',
    summary: 'cancel an annex content transfer; not retried',
    description:
      'Cancels the transfer of one git-annex key, as shown by status; the agent does not retry it.',
    flags: [],
    positionals: { names: ['KEY'], min: 1, max: 1 },
    exits: {
      0: 'the transfer was cancelled',
      1: 'no agent is running, or the agent could not cancel it',
      2: `${USAGE_2}; KEY is not a git-annex key; ${NOT_REPO}`,
    },
  },
  {
    name: 'map',
    summary: 'show the network map and where a new key would go',
    description:
      'Prints every repository this clone knows of (from its remotes, the remotes of repositories on ' +
      'this machine, and the git-annex branch), every link between them with its cost (annex-cost, ' +
      "else git-annex's default for the remote's type), whether it can be used now and where the fact " +
      'came from, and the cheapest tree a new key added here would travel. Needs no agent.',
    flags: [
      { name: '--json', help: 'print one JSON object (the fields are listed in README.md)' },
      { name: '--format', value: 'F', help: 'text (a table, the default) or dot (for Graphviz)' },
    ],
    positionals: NO_ARGS,
    exits: {
      0: 'the map was printed',
      1: 'git or git-annex failed while reading it',
      2: `${USAGE_2}; F is not text or dot; ${NOT_REPO}`,
    },
  },
  {
    name: 'demo',
    summary: 'watch clones sync live in a temp dir, no account',
    description:
      'Makes three clones in a temporary directory, starts their agents, changes files and shows each ' +
      'change arriving. Needs no account and no server, and touches nothing outside that directory.',
    flags: [
      { name: '--keep', help: 'keep the temporary directory afterwards' },
      { name: '--annex', help: 'use git-annex repositories' },
    ],
    positionals: NO_ARGS,
    exits: { 0: 'the demo ran', 1: 'a step of the demo failed', 2: USAGE_2 },
  },
  {
    name: 'pair',
    summary: 'add a device with a one-time code (--offer here, --accept there)',
    description:
      'Pairs this clone with a new device over XMPP, with a short one-time code and a PAKE (docs/pairing.md). ' +
      'In a terminal, pair with neither --offer nor --accept asks which side this device is. ' +
      'On the device that has the repository, --offer prints the code and waits until a device accepts it, ' +
      'the code expires, or a wrong attempt burns it. On the new device, --accept [DIR] reads the code ' +
      '(from the terminal without echo, from stdin when it is not a terminal, or from GIT_AUTOSYNC_PAIR_CODE), ' +
      'then clones the shared remote into DIR (or configures DIR in place when it already is a clone of the ' +
      'same repository), writes the key (mode 0600) and the XMPP settings, runs git annex init for ' +
      'git-annex repositories, and starts the agent. On failure nothing it created is left. The XMPP password ' +
      'comes from GIT_AUTOSYNC_XMPP_PASSWORD, the password file or the keyring.',
    flags: [
      { name: '--offer', help: 'offer this clone: print a code and wait' },
      {
        name: '--accept',
        help: 'join the repository offered on another device, into DIR (default: here when this is that repository, else ./NAME)',
      },
      { name: '--json', help: '--offer: print the code and the outcome as JSON lines' },
      { name: '--timeout', value: 'S', help: '--offer: the code expires after S seconds (default 600)' },
      {
        name: '--remote',
        value: 'R',
        help: '--offer: the shared remote to give (default: origin, or the only one)',
      },
      {
        name: '--jid',
        value: 'J',
        help: '--accept: the XMPP account to use (default: the one in a long code)',
      },
      { name: '--service', value: 'URI', help: '--accept: the XMPP server, xmpp(s)://host:port' },
    ],
    positionals: { names: ['DIR'], min: 0, max: 1 },
    synopsis: 'pair (--offer [--json] [--timeout S] | --accept [DIR])',
    exits: {
      0: 'paired: --offer, a device set itself up; --accept, DIR is a configured clone whose agent started',
      1: 'the pairing failed (the line says why and what to do: a wrong code, expired, crowded, a step of the set-up)',
      2: `${USAGE_2}; a code that does not parse (nothing was sent); neither --offer nor --accept; ${NOT_REPO}`,
    },
  },
  {
    name: 'help',
    summary: 'this list, or every option of VERB',
    description: 'Prints the usage, or with VERB every option of that verb and what its exit codes mean.',
    flags: [],
    positionals: { names: ['VERB'], min: 0, max: 1 },
    exits: { 0: 'help was printed', 1: 'never', 2: 'VERB is not a verb' },
  },
];

/** Options every verb takes, before or after it. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: '-C', value: '<path>', help: 'act on the repository at <path>' },
  { name: '--debug', help: 'stack traces, and XMPP stanza logs in the agent' },
  { name: '-h', help: 'this help; after a verb, the help of that verb' },
];

export function verbSpec(name: string): VerbSpec | undefined {
  return VERBS.find((v) => v.name === name);
}

function flagSynopsis(f: FlagSpec): string {
  return f.value ? `[${f.name} ${f.value}]` : `[${f.name}]`;
}

/** `start [--foreground]`, `cancel KEY`, `help [VERB]`. */
export function synopsis(v: VerbSpec): string {
  if (v.synopsis) return v.synopsis;
  const parts = [v.name, ...v.flags.filter((f) => !f.hidden).map(flagSynopsis)];
  v.positionals.names.forEach((n, i) => parts.push(i < v.positionals.min ? n : `[${n}]`));
  return parts.join(' ');
}

/** Left column width of the verb and option lists: long synopses go on a line of their own. */
const COLUMN = 26;

/** Lines stay within 80 columns, the width of a terminal nobody resized. */
const WIDTH = 80;

function twoColumns(left: string, right: string): string {
  const [first = '', ...rest] = wrap(right, WIDTH - COLUMN);
  const indent = ' '.repeat(COLUMN);
  const head =
    left.length <= COLUMN - 4 ? `  ${left.padEnd(COLUMN - 2)}${first}` : `  ${left}\n${indent}${first}`;
  return [head, ...rest.map((l) => indent + l)].join('\n');
}

function flagLabel(f: FlagSpec): string {
  if (f.name === '-h') return '-h, --help';
  return f.value ? `${f.name} ${f.value}` : f.name;
}

export function usage(): string {
  return [
    'usage: git autosync [-C <path>] [--debug] <verb> [options]',
    '',
    'verbs:',
    ...VERBS.map((v) => twoColumns(synopsis(v), v.summary)),
    '',
    'options of every verb:',
    ...GLOBAL_FLAGS.map((f) => twoColumns(flagLabel(f), f.help)),
    '',
    "'git autosync help VERB' or 'git autosync VERB --help': every option of VERB",
  ].join('\n');
}

export function verbHelp(v: VerbSpec): string {
  const flags = v.flags.filter((f) => !f.hidden);
  return [
    `usage: git autosync [-C <path>] ${synopsis(v)}`,
    '',
    v.summary,
    '',
    ...wrap(v.description, WIDTH),
    '',
    'options:',
    ...flags.map((f) => twoColumns(flagLabel(f), f.help)),
    ...GLOBAL_FLAGS.map((f) => twoColumns(flagLabel(f), f.help)),
    '',
    'exit status:',
    ...([0, 1, 2] as const).map((c) => twoColumns(String(c), v.exits[c])),
  ].join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
