import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FULL_PARAMS, paramsFor, parseOptions, QUICK_PARAMS } from '../../../bench/lib/options.js';
import { compare, type RunRecord } from '../../../bench/lib/targets.js';
import type { ScenarioResult } from '../../../bench/scenarios/types.js';

test('parseOptions: flags, --flag=value, and env defaults that flags override', () => {
  const o = parseOptions(['--quick', '--only', 'isolated,burst', '--skip-anchor'], {});
  assert.equal(o.quick, true);
  assert.deepEqual(o.only, ['isolated', 'burst']);
  assert.equal(o.skipAnchor, true);
  assert.deepEqual(parseOptions(['--only=idle'], {}).only, ['idle']);
  assert.equal(parseOptions(['--report', 'r.json'], {}).report, 'r.json');
  const e = parseOptions([], { BENCH_QUICK: '1', BENCH_ONLY: 'burst', BENCH_SKIP_ANCHOR: '0' });
  assert.equal(e.quick, true);
  assert.deepEqual(e.only, ['burst']);
  assert.equal(e.skipAnchor, false);
  assert.deepEqual(parseOptions(['--only', 'idle'], { BENCH_ONLY: 'burst' }).only, ['idle']);
});

test('parseOptions: unknown flags and missing values are errors', () => {
  assert.throws(() => parseOptions(['--fast'], {}), /unknown option --fast/);
  assert.throws(() => parseOptions(['--only'], {}), /--only needs a value/);
});

test('paramsFor: --quick takes fewer repetitions but the same burst size', () => {
  assert.equal(paramsFor(parseOptions([], {})), FULL_PARAMS);
  assert.equal(paramsFor(parseOptions(['--quick'], {})), QUICK_PARAMS);
  assert.ok(QUICK_PARAMS.isolatedRuns < FULL_PARAMS.isolatedRuns);
  assert.ok(FULL_PARAMS.isolatedRuns >= 10 && FULL_PARAMS.continuousWrites >= 10);
  assert.equal(QUICK_PARAMS.burstFiles, FULL_PARAMS.burstFiles);
});

test('paramsFor: BENCH_PARAMS overrides single fields and rejects nonsense', () => {
  const o = parseOptions([], {});
  assert.equal(paramsFor(o, { BENCH_PARAMS: '{"continuousWrites":30}' }).continuousWrites, 30);
  assert.equal(
    paramsFor(o, { BENCH_PARAMS: '{"continuousWrites":30}' }).isolatedRuns,
    FULL_PARAMS.isolatedRuns,
  );
  assert.throws(() => paramsFor(o, { BENCH_PARAMS: '{"nope":1}' }), /unknown parameter nope/);
  assert.throws(() => paramsFor(o, { BENCH_PARAMS: '{"burstFiles":"many"}' }), /must be a number/);
  assert.throws(() => paramsFor(o, { BENCH_PARAMS: '[1]' }), /JSON object/);
  assert.throws(() => paramsFor(o, { BENCH_PARAMS: '{' }), /not valid JSON/);
});

function rec(system: string, scenario: string, result: ScenarioResult | undefined, ok = true): RunRecord {
  return {
    system,
    systemLabel: system,
    anchor: system === 'anchor',
    scenario,
    scenarioTitle: scenario,
    ok,
    durationMs: 0,
    result,
    ...(ok ? {} : { error: 'boom' }),
  };
}

const latency = (median: number): ScenarioResult => ({
  kind: 'latency',
  samplesMs: [median],
  timeouts: 0,
  summary: { n: 1, median, p90: median, min: median, max: median, mean: median },
});
const burst = (arrivalMs: number, commits: number): ScenarioResult => ({
  kind: 'burst',
  files: 1000,
  writeMs: 100,
  arrivalMs,
  commits,
});
const idle = (cpuPercent: number, rssKb: number): ScenarioResult => {
  const m = { rssKb, pssKb: rssKb / 2, processes: 1 };
  return {
    kind: 'idle',
    windowMs: 30_000,
    cpuPercent,
    cpuPercentA: cpuPercent,
    cpuPercentB: cpuPercent,
    memory: m,
    memoryA: m,
    memoryB: m,
  };
};

test('compare: ratios candidate/anchor and each target decided', () => {
  const records = [
    rec('cand', 'isolated', latency(100)),
    rec('anchor', 'isolated', latency(300)),
    rec('cand', 'continuous', latency(250)),
    rec('anchor', 'continuous', latency(2000)),
    rec('cand', 'burst', burst(1500, 2)),
    rec('anchor', 'burst', burst(6000, 1)),
    rec('cand', 'idle', idle(0.05, 40_000)),
    rec('anchor', 'idle', idle(0.27, 60_000)),
  ];
  const checks = compare(records, 'cand', 'anchor');
  const by = (m: string) => checks.find((c) => c.metric.startsWith(m));
  assert.equal(by('propagation median, isolated')?.met, true);
  assert.ok(Math.abs((by('propagation median, isolated')?.ratio ?? 0) - 1 / 3) < 1e-9);
  assert.equal(by('propagation median, continuous')?.met, false);
  assert.equal(by('burst of 1000 files')?.ratio, 0.25);
  assert.equal(by('burst of 1000 files')?.met, true);
  assert.equal(by('burst, commits')?.met, true);
  assert.equal(by('idle CPU')?.met, true);
  assert.equal(by('idle RSS')?.met, null);
});

test('compare: exactly 3× faster meets the burst target; a failed or missing run is undecided', () => {
  const ok3 = compare(
    [rec('cand', 'burst', burst(2000, 4)), rec('anchor', 'burst', burst(6000, 1))],
    'cand',
    'anchor',
  );
  assert.equal(ok3.find((c) => c.metric.includes('time to peer'))?.met, true);
  assert.equal(ok3.find((c) => c.metric.includes('commits'))?.met, false);

  const failed = compare(
    [rec('cand', 'isolated', undefined, false), rec('anchor', 'isolated', latency(300))],
    'cand',
    'anchor',
  );
  const iso = failed.find((c) => c.metric.includes('isolated'));
  assert.equal(iso?.candidate, null);
  assert.equal(iso?.anchor, 300);
  assert.equal(iso?.met, null);
  // No anchor run: the absolute targets are still decided, the relative one is not.
  const alone = compare([rec('cand', 'burst', burst(1000, 1))], 'cand', '');
  assert.equal(alone.find((c) => c.metric.includes('time to peer'))?.met, null);
  assert.equal(alone.find((c) => c.metric.includes('commits'))?.met, true);
});

test('compare: idle CPU is judged at the precision shown, so 0.09999 % is not below 0.1 %', () => {
  const at = (cpu: number) =>
    compare([rec('cand', 'idle', idle(cpu, 1000))], 'cand', '').find((c) => c.metric.startsWith('idle CPU'))
      ?.met;
  assert.equal(at(0.0999879), false);
  assert.equal(at(0.075), true);
  assert.equal(at(0), true);
});
