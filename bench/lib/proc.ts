// CPU and memory of a process tree, read from Linux /proc. An agent is a tree, not one pid: the
// assistant runs git cat-file, check-ignore and a remote daemon as children, and git-autosync spawns
// git. So every figure here is over a root pid and all of its descendants.
//
// CPU accounting: for each live process in the tree we add utime + stime (its own CPU) and
// cutime + cstime (CPU of children it has already reaped). A child that exits during a sampling
// window moves its time into its parent's cutime when reaped, so the tree total is monotonic and the
// difference between two snapshots is the tree's CPU in between, short-lived git children included.
// What it misses: a process that daemonizes away from the tree (re-parented to init); neither system
// does that in the foreground mode we use.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  state: string;
  /** Clock ticks (see clockTicksPerSecond). */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/**
 * Parses the text of /proc/<pid>/stat. The comm field is in parentheses and may itself contain spaces
 * and ')' (a process can name itself anything), so the fields after it are found from the LAST ')'.
 */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const comm = text.slice(open + 1, close);
  // After ')': state(3) ppid(4) pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime(14) stime(15) cutime(16) cstime(17) ... (field numbers as in proc(5)).
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number) => Number(rest[n - 3]);
  const st: ProcStat = {
    pid,
    ppid: field(4),
    comm,
    state: rest[0] ?? '?',
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
  };
  if (![st.pid, st.ppid, st.utime, st.stime, st.cutime, st.cstime].every(Number.isFinite)) return null;
  return st;
}

/** Every process visible now. Processes that vanish while we read are simply absent. */
export function listProcesses(): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = parseStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (st) all.set(st.pid, st);
    } catch {
      /* exited between readdir and read */
    }
  }
  return all;
}

/** The roots and all their descendants present in procs (roots that have exited are left out). */
export function treePids(roots: readonly number[], procs: ReadonlyMap<number, { ppid: number }>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, p] of procs) {
    const list = children.get(p.ppid);
    if (list) list.push(pid);
    else children.set(p.ppid, [pid]);
  }
  const seen = new Set<number>();
  const stack = roots.filter((r) => procs.has(r));
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return [...seen];
}

/** Cumulative CPU ticks of the tree, as described at the top of this file. */
export function treeCpuTicks(roots: readonly number[], procs = listProcesses()): number {
  let ticks = 0;
  for (const pid of treePids(roots, procs)) {
    const p = procs.get(pid) as ProcStat;
    ticks += p.utime + p.stime + p.cutime + p.cstime;
  }
  return ticks;
}

let ticksPerSecond: number | null = null;

/** USER_HZ, almost always 100; asked once from getconf, since Node has no sysconf binding. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond !== null) return ticksPerSecond;
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim());
    ticksPerSecond = Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** Value in kB of a "Key:   1234 kB" line of /proc status-like files, or null. */
export function parseKbField(text: string, key: string): number | null {
  const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

export interface MemorySample {
  /** Sum of VmRSS: counts pages shared between processes (libraries, git's mmap) once per process. */
  rssKb: number;
  /** Sum of Pss: shared pages divided among their users, so it adds up honestly across a tree. */
  pssKb: number;
  processes: number;
  /** Per process, so the JSON shows where the memory is (main process vs helpers). */
  detail: { pid: number; comm: string; rssKb: number; pssKb: number }[];
}

export function treeMemory(roots: readonly number[], procs = listProcesses()): MemorySample {
  const out: MemorySample = { rssKb: 0, pssKb: 0, processes: 0, detail: [] };
  for (const pid of treePids(roots, procs)) {
    let rssKb: number;
    let pssKb = 0;
    try {
      rssKb = parseKbField(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS') ?? 0;
    } catch {
      continue; // exited meanwhile
    }
    try {
      pssKb = parseKbField(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss') ?? 0;
    } catch {
      /* smaps_rollup needs Linux >= 4.14 and our own uid; RSS alone is still reported */
    }
    out.rssKb += rssKb;
    out.pssKb += pssKb;
    out.processes++;
    out.detail.push({ pid, comm: procs.get(pid)?.comm ?? '?', rssKb, pssKb });
  }
  return out;
}

/**
 * Voluntary context switches of every thread of every process in the tree: each one is the agent
 * going to sleep after being woken, so the difference over a window counts wake-ups (timers, polls,
 * inotify events). Threads matter: Node's libuv pool and V8 helpers each have their own count.
 * Processes that exit inside the window take their count with them, so this is a lower bound.
 */
export function treeWakeups(roots: readonly number[], procs = listProcesses()): number {
  let n = 0;
  for (const pid of treePids(roots, procs)) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        n +=
          parseCountField(
            readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'),
            'voluntary_ctxt_switches',
          ) ?? 0;
      } catch {
        /* thread gone */
      }
    }
  }
  return n;
}

/** Value of a "key:\t123" line of a /proc status file, or null. */
export function parseCountField(text: string, key: string): number | null {
  const m = new RegExp(`^${key}:\\s+(\\d+)\\s*$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * Measures the CPU of a tree over a window. The tree is re-walked at both ends (children come and
 * go), and the result is in percent of one core, which is how `top` shows it.
 */
export function cpuPercent(ticksBefore: number, ticksAfter: number, elapsedMs: number): number {
  if (elapsedMs <= 0) throw new Error('empty sampling window');
  return ((ticksAfter - ticksBefore) / clockTicksPerSecond() / (elapsedMs / 1000)) * 100;
}

/**
 * Kernel inotify watches held by the tree: every inotify file descriptor's /proc/<pid>/fdinfo entry
 * has one "inotify wd:" line per watch. Reading fdinfo needs our own uid, which the agents are.
 */
export function treeInotifyWatches(roots: readonly number[], procs = listProcesses()): number {
  let n = 0;
  for (const pid of treePids(roots, procs)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      continue; // exited meanwhile
    }
    for (const fd of fds) {
      try {
        n += countInotifyWatches(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      } catch {
        /* fd closed meanwhile */
      }
    }
  }
  return n;
}

/** The number of "inotify wd:" lines of one fdinfo text (0 for a descriptor that is not inotify). */
export function countInotifyWatches(fdinfo: string): number {
  return fdinfo.match(/^inotify wd:/gm)?.length ?? 0;
}
