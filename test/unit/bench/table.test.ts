import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmtMb, fmtMs, fmtPercent, fmtRatio, fmtSeconds, renderTable } from '../../../bench/lib/table.js';

test('renderTable: aligned markdown with right-aligned numbers', () => {
  const out = renderTable(
    [{ header: 'system' }, { header: 'median', align: 'right' }],
    [
      ['assistant', '312 ms'],
      ['autosync', '45 ms'],
    ],
  );
  assert.equal(
    out,
    [
      '| system    | median |',
      '|-----------|-------:|',
      '| assistant | 312 ms |',
      '| autosync  |  45 ms |',
    ].join('\n'),
  );
});

test('renderTable: every line has the same width, counting ≤ and × as one column', () => {
  const out = renderTable(
    [{ header: 'target' }, { header: 'ratio', align: 'right' }],
    [
      ['≤ 150 ms', '0.5×'],
      ['x', '12×'],
    ],
  );
  const widths = out.split('\n').map((l) => [...l].length);
  assert.equal(new Set(widths).size, 1, out);
});

test('renderTable: short rows are padded, pipes and newlines in cells are neutralised', () => {
  const out = renderTable([{ header: 'a' }, { header: 'b' }], [['x|y'], ['line\nbreak', 'z']]);
  const lines = out.split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[2] as string, /^\| x\\\|y +\| +\|$/);
  assert.match(lines[3] as string, /line break/);
});

test('renderTable: a row longer than the header is an error, as is no column', () => {
  assert.throws(() => renderTable([{ header: 'a' }], [['1', '2']]), /2 cells for 1 columns/);
  assert.throws(() => renderTable([], []), /at least one column/);
});

test('renderTable: minimum separator width for a one-letter right-aligned column', () => {
  const out = renderTable([{ header: 'n', align: 'right' }], [['1']]);
  assert.equal(out.split('\n')[1], '|-----:|');
});

test('formats: units, rounding and "-" for missing values', () => {
  assert.equal(fmtMs(149.6), '150 ms');
  assert.equal(fmtMs(12_345), '12.3 s');
  assert.equal(fmtMs(null), '-');
  assert.equal(fmtSeconds(6040), '6.04 s');
  assert.equal(fmtPercent(0.0833), '0.083 %');
  assert.equal(fmtPercent(undefined), '-');
  assert.equal(fmtRatio(0.4567), '0.46×');
  assert.equal(fmtRatio(12.3), '12×');
  assert.equal(fmtRatio(250), '250×');
  assert.equal(fmtRatio(null), '-');
  assert.equal(fmtMb(61_440), '60.0 MB');
});
