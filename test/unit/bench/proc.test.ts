import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  parseCountField,
  parseKbField,
  parseStat,
  treeCpuTicks,
  treePids,
  type ProcStat,
} from '../../../bench/lib/proc.js';

test('parseStat: fields after a comm that contains spaces and a closing parenthesis', () => {
  // Fields 14-17 (utime stime cutime cstime) are 11 12 13 14 here.
  const line = '4242 (git annex) x) S 17 4242 4242 0 -1 4194560 100 0 0 0 11 12 13 14 20 0 1 0 555 0 0';
  const st = parseStat(line);
  assert.ok(st);
  assert.equal(st.pid, 4242);
  assert.equal(st.comm, 'git annex) x');
  assert.equal(st.state, 'S');
  assert.equal(st.ppid, 17);
  assert.deepEqual([st.utime, st.stime, st.cutime, st.cstime], [11, 12, 13, 14]);
});

test('parseStat: garbage is null, not a record of NaNs', () => {
  assert.equal(parseStat(''), null);
  assert.equal(parseStat('12 (x) S'), null);
});

test('parseStat: the real /proc/self/stat parses', () => {
  const st = parseStat(readFileSync('/proc/self/stat', 'utf8'));
  assert.ok(st);
  assert.equal(st.pid, process.pid);
  assert.equal(st.ppid, process.ppid);
});

function proc(pid: number, ppid: number, own: number, reaped = 0): ProcStat {
  return { pid, ppid, comm: `p${pid}`, state: 'S', utime: own, stime: 0, cutime: reaped, cstime: 0 };
}

test('treePids: descendants of the roots only, absent roots skipped', () => {
  const procs = new Map([
    [1, proc(1, 0, 0)],
    [10, proc(10, 1, 0)],
    [11, proc(11, 10, 0)],
    [12, proc(12, 11, 0)],
    [20, proc(20, 1, 0)],
  ]);
  assert.deepEqual(
    treePids([10, 99], procs).sort((a, b) => a - b),
    [10, 11, 12],
  );
});

test('treeCpuTicks: own plus reaped-children time, so an exited child is still counted', () => {
  const before = new Map([
    [10, proc(10, 1, 100)],
    [11, proc(11, 10, 30)],
  ]);
  // Child 11 used 5 more ticks, exited and was reaped: its 35 ticks move into 10's cutime.
  const after = new Map([[10, proc(10, 1, 102, 35)]]);
  assert.equal(treeCpuTicks([10], after) - treeCpuTicks([10], before), 7);
});

test('parseKbField: a "Key: n kB" line', () => {
  const status = 'Name:\tnode\nVmPeak:\t 1000 kB\nVmRSS:\t   61234 kB\n';
  assert.equal(parseKbField(status, 'VmRSS'), 61234);
  assert.equal(parseKbField(status, 'Pss'), null);
});

test('parseCountField: a "key:<tab>n" line, not a prefix of a longer key', () => {
  const status = 'voluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n';
  assert.equal(parseCountField(status, 'voluntary_ctxt_switches'), 120);
  assert.equal(parseCountField(status, 'nonvoluntary_ctxt_switches'), 7);
  assert.equal(parseCountField(status, 'ctxt'), null);
});
