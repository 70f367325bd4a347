// What util.parseArgs would take apart or read its own way, and the parser keeps as one argument:
// a short group, a short option with its value glued on, a long spelling of -C or -h, `--=x`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../../src/cli/args.js';

const CWD = '/home/u/notes';

const REFUSED: Array<[string[], string]> = [
  [['status', '-xy'], "'status' has no option -xy; see 'git autosync help status'"],
  [['status', '-hh'], "'status' has no option -hh; see 'git autosync help status'"],
  [
    ['-Cdir', 'status'],
    "unknown option -Cdir before the verb (a verb's options go after it); see 'git autosync help'",
  ],
  [['status', '-C=dir'], "'status' has no option -C=dir; see 'git autosync help status'"],
  [['status', '--C', 'dir'], "'status' has no option --C; see 'git autosync help status'"],
  [
    ['--h', 'status'],
    "unknown option --h before the verb (a verb's options go after it); see 'git autosync help'",
  ],
  [['status', '--=x'], "'status' has no option --; see 'git autosync help status'"],
  [['status', '--no-json'], "'status' has no option --no-json; see 'git autosync help status'"],
  [['init', '--jid', '--'], "--jid needs a value (--jid J); see 'git autosync help init'"],
  [['-', 'status'], "unknown verb '-'; see 'git autosync help'"],
  [['--', 'status', '--json'], "'status' takes no arguments (got '--json'); see 'git autosync help status'"],
];

for (const [argv, message] of REFUSED) {
  test(`refused whole: ${argv.join(' ')}`, () => {
    assert.throws(() => parseArgs(argv, CWD), { message });
  });
}

test('-C takes whatever follows it as its path, even what looks like an option', () => {
  const a = parseArgs(['-C', '--json', 'status'], CWD);
  assert.equal(a.cwd, '/home/u/notes/--json');
  assert.equal(a.verb, 'status');
  assert.equal(a.flags.size, 0);
});

test('a value may be a lone dash, and --jid=a=b keeps what follows the first =', () => {
  assert.equal(parseArgs(['init', '--resource', '-'], CWD).flags.get('--resource'), '-');
  assert.equal(parseArgs(['init', '--jid=a=b'], CWD).flags.get('--jid'), 'a=b');
});

test('the last -C wins, relative to the one before', () => {
  assert.equal(parseArgs(['-C', 'a', 'status', '-C', 'b'], CWD).cwd, '/home/u/notes/a/b');
});
