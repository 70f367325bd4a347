// The argument parser, as a table: what each verb accepts, and the one line for what it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../../src/cli/args.js';
import { UserError } from '../../../src/core/errors.js';
import { VERBS } from '../../../src/cli/usage.js';

const CWD = '/home/u/notes';

const ACCEPTED: Array<
  [
    string[],
    Partial<{
      verb: string;
      flags: Record<string, string | true>;
      positional: string[];
      cwd: string;
      help: boolean;
      debug: boolean;
    }>,
  ]
> = [
  [
    [
      'init',
      '--yes',
      '--jid',
      'a@b.org',
      '--room',
      'r@c.b.org',
      '--service',
      'xmpps://b.org:5223',
      '--resource',
      'lap',
    ],
    {
      verb: 'init',
      flags: {
        '--yes': true,
        '--jid': 'a@b.org',
        '--room': 'r@c.b.org',
        '--service': 'xmpps://b.org:5223',
        '--resource': 'lap',
      },
    },
  ],
  [['init', '--jid=a@b.org', '--yes'], { verb: 'init', flags: { '--jid': 'a@b.org', '--yes': true } }],
  [['init', '--resource=-x'], { verb: 'init', flags: { '--resource': '-x' } }],
  [
    ['-C', 'sub', 'status', '--json'],
    { verb: 'status', cwd: '/home/u/notes/sub', flags: { '--json': true } },
  ],
  [['status', '-C', '/abs', '--watch'], { verb: 'status', cwd: '/abs', flags: { '--watch': true } }],
  [['--debug', 'start', '--foreground'], { verb: 'start', debug: true, flags: { '--foreground': true } }],
  [
    ['start', '--foreground', '--daemon-child'],
    { verb: 'start', flags: { '--foreground': true, '--daemon-child': true } },
  ],
  [['pause', '--remote', 'origin'], { verb: 'pause', flags: { '--remote': 'origin' } }],
  [['notify', '--remote=b'], { verb: 'notify', flags: { '--remote': 'b' } }],
  [['cancel', 'SHA256E-s5--abc.txt'], { verb: 'cancel', positional: ['SHA256E-s5--abc.txt'] }],
  [['cancel', '--', '-odd'], { verb: 'cancel', positional: ['-odd'] }],
  [['help'], { verb: 'help', positional: [] }],
  [['help', 'start'], { verb: 'help', positional: ['start'] }],
  [['start', '--help'], { verb: 'start', help: true }],
  [['-h'], { verb: undefined, help: true }],
  [['--help'], { help: true }],
  [['stop', '-h', 'now'], { verb: 'stop', help: true }],
  [['start', '--bogus', '--json=1', '--help'], { verb: 'start', help: true }],
  [['-C', 'x', 'pause', '--remote', '-h'], { verb: 'pause', help: true, cwd: '/home/u/notes/x' }],
  [['cancel', '--', '--help'], { verb: 'cancel', help: false, positional: ['--help'] }],
  [[], { help: false }],
];

for (const [argv, want] of ACCEPTED) {
  test(`accepted: ${argv.join(' ') || '(nothing)'}`, () => {
    const a = parseArgs(argv, CWD);
    if ('verb' in want) assert.equal(a.verb, want.verb ?? null);
    if (want.flags) assert.deepEqual(Object.fromEntries(a.flags), want.flags);
    if (want.positional) assert.deepEqual(a.positional, want.positional);
    assert.equal(a.cwd, want.cwd ?? CWD);
    assert.equal(a.cwdGiven, want.cwd !== undefined);
    if (want.help !== undefined) assert.equal(a.help, want.help);
    assert.equal(a.debug, want.debug ?? false);
  });
}

/** argv, and what the one line must say. Every refusal is exit 2 and points to the verb's help. */
const REFUSED: Array<[string[], RegExp]> = [
  [['init', '--yes', '--jid'], /^--jid needs a value \(--jid J\); see 'git autosync help init'$/],
  [['init', '--jid='], /^--jid needs a value/],
  [['init', '--jid', '--yes'], /^--jid needs a value/],
  [
    ['init', '--jid', 'a@b', 'extra'],
    /^'init' takes no arguments \(got 'extra'\); see 'git autosync help init'$/,
  ],
  [['init', '--frob'], /^'init' has no option --frob; see 'git autosync help init'$/],
  [['status', '-x'], /^'status' has no option -x; see 'git autosync help status'$/],
  [['status', '--json=yes'], /^--json takes no value \(got '--json=yes'\); see 'git autosync help status'$/],
  [['start', '--foreground=no'], /^--foreground takes no value \(got '--foreground=no'\)/],
  [['stop', 'now'], /^'stop' takes no arguments \(got 'now'\); see 'git autosync help stop'$/],
  [['status', '--json', '--json'], /^--json is given twice/],
  [['pause', '--remote'], /^--remote needs a value \(--remote R\); see 'git autosync help pause'$/],
  [['pause', '--remote', 'a', 'b'], /^'pause' takes no arguments \(got 'b'\)/],
  [['cancel'], /^'cancel' needs KEY; see 'git autosync help cancel'$/],
  [['cancel', 'k1', 'k2'], /^'cancel' takes at most 1 argument \(got 'k2' too\)/],
  [['help', 'start', 'stop'], /^'help' takes at most 1 argument/],
  [['frobnicate'], /^unknown verb 'frobnicate'; see 'git autosync help'$/],
  [['--json', 'status'], /^unknown option --json before the verb/],
  [['-C'], /^-C needs a path/],
  [['-C', '', 'status'], /^-C needs a path/],
  [['status', '--debug=1'], /^--debug takes no value/],
  [['status', '--help=x'], /^--help takes no value/],
  [['nosuch', '--help'], /^unknown verb 'nosuch'; see 'git autosync help'$/],
];

for (const [argv, re] of REFUSED) {
  test(`refused: ${argv.join(' ')}`, () => {
    assert.throws(
      () => parseArgs(argv, CWD),
      (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.equal(e.exitCode, 2);
        assert.match(e.message, re);
        assert.doesNotMatch(e.message, /\n/);
        return true;
      },
    );
  });
}

test('every verb refuses an unknown option and a stray argument past what it declares', () => {
  for (const v of VERBS) {
    assert.throws(() => parseArgs([v.name, '--no-such-option'], CWD), /has no option --no-such-option/);
    const extra = Array.from({ length: v.positionals.max + 1 }, (_, i) => `arg${i}`);
    assert.throws(() => parseArgs([v.name, ...extra], CWD), /takes (no arguments|at most)/, v.name);
    for (const f of v.flags) {
      if (f.value) assert.throws(() => parseArgs([v.name, `${f.name}=`], CWD), /needs a value/);
      else assert.throws(() => parseArgs([v.name, `${f.name}=x`], CWD), /takes no value/);
    }
  }
});
