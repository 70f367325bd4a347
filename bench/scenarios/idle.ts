// Idle cost: CPU (% of one core) and memory of each agent's process tree while nothing changes,
// after start-up and the warm-up exchange have settled.
import { cpuPercent, listProcesses, treeCpuTicks, treeMemory, treeWakeups } from '../lib/proc.js';
import { now, sleep } from '../lib/poll.js';
import type { Session } from '../lib/session.js';
import type { IdleResult, MemoryPerAgent, Scenario } from './types.js';

/** Check on the agents this often during the window, so a crash is reported, not averaged in. */
const GUARD_EVERY_MS = 1000;

export const idle: Scenario = {
  name: 'idle',
  title: 'idle',
  async run(s: Session): Promise<IdleResult> {
    const { idleSettleMs, idleWindowMs } = s.params;
    await sleep(idleSettleMs);
    s.guard();
    const roots = { a: [s.agents.a.pid], b: [s.agents.b.pid] };
    // One /proc walk per snapshot for both trees, so both see the same instant.
    let procs = listProcesses();
    const t0 = now();
    const before = { a: treeCpuTicks(roots.a, procs), b: treeCpuTicks(roots.b, procs) };
    const wakeBefore = { a: treeWakeups(roots.a, procs), b: treeWakeups(roots.b, procs) };
    while (now() - t0 < idleWindowMs) {
      await sleep(Math.min(GUARD_EVERY_MS, idleWindowMs - (now() - t0)));
      s.guard();
    }
    procs = listProcesses();
    const elapsed = now() - t0;
    const cpuA = cpuPercent(before.a, treeCpuTicks(roots.a, procs), elapsed);
    const cpuB = cpuPercent(before.b, treeCpuTicks(roots.b, procs), elapsed);
    const perSec = (d: number) => d / (elapsed / 1000);
    const wakeA = perSec(treeWakeups(roots.a, procs) - wakeBefore.a);
    const wakeB = perSec(treeWakeups(roots.b, procs) - wakeBefore.b);
    const memA = treeMemory(roots.a, procs);
    const memB = treeMemory(roots.b, procs);
    const mean = (x: MemoryPerAgent, y: MemoryPerAgent): MemoryPerAgent => ({
      rssKb: (x.rssKb + y.rssKb) / 2,
      pssKb: (x.pssKb + y.pssKb) / 2,
      processes: (x.processes + y.processes) / 2,
    });
    s.log(
      `cpu A ${cpuA.toFixed(3)} %, B ${cpuB.toFixed(3)} %; wake-ups/s A ${wakeA.toFixed(1)}, B ${wakeB.toFixed(1)}; rss A ${memA.rssKb} kB, B ${memB.rssKb} kB`,
    );
    return {
      kind: 'idle',
      windowMs: elapsed,
      cpuPercent: (cpuA + cpuB) / 2,
      cpuPercentA: cpuA,
      cpuPercentB: cpuB,
      wakeupsPerSecond: (wakeA + wakeB) / 2,
      memory: mean(memA, memB),
      memoryA: memA,
      memoryB: memB,
    };
  },
};
