import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ignoreMatcher, ignoreRules, DEFAULT_IGNORE } from '../../../src/git/transient.js';

test('transient files: the default list, table', () => {
  const m = ignoreMatcher();
  const rows: Array<[string, boolean]> = [
    // the list
    ['.x.swp', true],
    ['dir/.notes.txt.swo', true],
    ['x~', true],
    ['4913', true],
    ['sub/4913', true],
    ['#x#', true],
    ['.#x', true],
    ['.DS_Store', true],
    ['a/b/.DS_Store', true],
    ['report.tmp', true],
    ['~$x.docx', true],
    ['.~lock.x.odt#', true],
    ['Thumbs.db', true],
    ['desktop.ini', true],
    ['video.mp4.crdownload', true],
    ['.Trashes/501/file.txt', true], // inside an ignored directory
    // ordinary files stay synced
    ['x', false],
    ['notes.txt', false],
    ['.swp', false], // not vim's pattern: .<name>.sw?
    ['.x.swq', false],
    ['4914', false],
    ['49130', false],
    ['a#b', false],
    ['file.tmp.txt', false],
    ['~x.docx', false],
    ['tmp/notes.txt', false],
    ['.gitignore', false],
    ['README', false],
  ];
  for (const [path, want] of rows) assert.equal(m.ignores(path), want, path);
});

test('transient files: autosync.ignore adds, takes back, and turns the defaults off', () => {
  const rows: Array<[string, string[], string, boolean]> = [
    ['an added pattern', ['*.bak'], 'old.bak', true],
    ['several in one value', ['*.bak  *.log'], 'x.log', true],
    ['a pattern with / is anchored at the top', ['build/out'], 'build/out', true],
    ['… and does not match deeper', ['build/out'], 'src/build/out', false],
    ['a leading / anchors too', ['/scratch'], 'scratch/a.txt', true],
    ['… only at the top', ['/scratch'], 'a/scratch', false],
    ['a directory pattern', ['cache/'], 'x/cache/y', true],
    ['! takes a default back', ['!*.tmp'], 'report.tmp', false],
    ['… only that one', ['!*.tmp'], '.x.swp', true],
    ['! spares one name', ['!keep.tmp'], 'keep.tmp', false],
    ['… the others stay ignored', ['!keep.tmp'], 'other.tmp', true],
    ['none drops the defaults', ['none'], '.x.swp', false],
    ['… rules after none still apply', ['none', '*.bak'], 'a.bak', true],
    ['… rules before none do not', ['*.bak', 'none'], 'a.bak', false],
    ['a class', ['[ab].dat'], 'b.dat', true],
    ['a negated class', ['[!ab].dat'], 'b.dat', false],
    ['? is one character', ['?.dat'], 'ab.dat', false],
    ['\\ makes a character literal', ['\\*.dat'], '*.dat', true],
    ['… and only that', ['\\*.dat'], 'x.dat', false],
  ];
  for (const [name, values, path, want] of rows)
    assert.equal(ignoreMatcher(values).ignores(path), want, name);
  assert.deepEqual(ignoreRules(['none', 'a b']), ['a', 'b']);
  assert.equal(ignoreRules([]).length, DEFAULT_IGNORE.length);
});
