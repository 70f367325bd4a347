// The man page npm installs (package.json "man") is the one the usage tables generate, and the
// usage, the per-verb help and the page all list every option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MAN_PATH, PACKAGE_ROOT, manPage, packageVersion } from '../../../src/cli/man.js';
import { GLOBAL_FLAGS, VERBS, usage, verbHelp } from '../../../src/cli/usage.js';

test('the committed man page is what the generator writes (run `npm run build` and commit it)', () => {
  const committed = readFileSync(PACKAGE_ROOT + MAN_PATH, 'utf8');
  assert.equal(committed, manPage(packageVersion(PACKAGE_ROOT)));
  const pkg = JSON.parse(readFileSync(PACKAGE_ROOT + 'package.json', 'utf8')) as {
    man: string[];
    files: string[];
  };
  assert.deepEqual(pkg.man, [`./${MAN_PATH}`]);
  assert.ok(pkg.files.includes('man'), 'the page is packed');
});

test('usage, help VERB and the man page name every verb and every option', () => {
  const page = manPage('0.0.0').replace(/\\-/g, '-');
  for (const v of VERBS) {
    assert.match(usage(), new RegExp(`^  ${v.name}\\b`, 'm'));
    assert.match(page, new RegExp(`^\\.SS ${v.name}\\b`, 'm'));
    const help = verbHelp(v);
    for (const f of v.flags.filter((x) => !x.hidden)) {
      assert.match(help, new RegExp(`^  ${f.name}\\b`, 'm'), `${v.name} --help lists ${f.name}`);
      assert.ok(page.includes(`\\fB${f.name}\\fR`), `man page lists ${v.name} ${f.name}`);
    }
    for (const f of v.flags.filter((x) => x.hidden)) assert.ok(!help.includes(f.name));
    assert.match(help, /^exit status:$/m);
    for (const c of ['0', '1', '2']) assert.match(help, new RegExp(`^  ${c} +\\S`, 'm'));
  }
  for (const f of GLOBAL_FLAGS) assert.ok(usage().includes(`  ${f.name}`));
  for (const line of usage().split('\n')) assert.ok(line.length <= 80, `over 80 columns: ${line}`);
});

test('roff: no line of text starts with a control character, and dashes are escaped', () => {
  const page = manPage('1.0.0');
  for (const line of page.split('\n')) {
    if (line.startsWith('.')) assert.match(line, /^\.(TH|SH|SS|TP|RS|RE|br|B)\b/, line);
    if (!line.startsWith('.')) assert.doesNotMatch(line, /(^|[^\\])-/, `unescaped dash: ${line}`);
  }
});

test('docs/cli.md has the exit-code row of every verb, as the tables say it', () => {
  const doc = readFileSync(PACKAGE_ROOT + 'docs/cli.md', 'utf8');
  for (const v of VERBS) {
    const row = `| \`${v.name}\` | ${v.exits[0]} | ${v.exits[1]} | `;
    assert.ok(doc.includes(row), `docs/cli.md lacks or differs from: ${row}`);
  }
});
