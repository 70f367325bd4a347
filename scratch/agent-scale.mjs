// Two real agents on an N-file repository (folders of 100 files, cloned on both sides, direct
// remotes): time to status answering, time to ready (a change made then is on the peer), commits made
// at start, single-change latency (median of 5), RSS of each agent's whole process tree, idle CPU.
// usage: node agent-scale.mjs <dist dir of a build> <files> [label]
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
const [dist, nStr, label = dist] = process.argv.slice(2);
const N = +nStr;
const { controlRequest } = await import(join(dist, 'src/control/client.js'));
const CLI = join(dist, 'src/cli/main.js');
const env = { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@x', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
const git = (cwd, ...a) => execFileSync('git', a, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 28 });
const root = `/tmp/b-scale-${N}`;
const a = join(root, 'a'), b = join(root, 'b');
if (!existsSync(join(root, '.ready'))) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(a, { recursive: true });
  git(a, 'init', '-q', '-b', 'main');
  for (let d = 0; d < N / 100; d++) {
    const dir = join(a, `d${String(d).padStart(4, '0')}`);
    mkdirSync(dir);
    for (let f = 0; f < 100; f++) writeFileSync(join(dir, `f${f}.txt`), `folder ${d} file ${f}\n`);
  }
  git(a, 'add', '-A');
  git(a, '-c', 'gc.auto=0', 'commit', '-qm', 'seed');
  git(a, 'gc', '-q'); // packed first: an automatic gc in the background races the clone
  git(root, 'clone', '-q', a, b);
  git(b, 'remote', 'rename', 'origin', 'a');
  git(a, 'remote', 'add', 'b', b);
  for (const r of [a, b]) execFileSync(process.execPath, [CLI, '-C', r, 'init', '--yes'], { env, stdio: 'ignore' });
  writeFileSync(join(root, '.ready'), '');
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function tree(pid) {
  const kids = new Map();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try { const st = readFileSync(`/proc/${p}/stat`, 'utf8'); const ppid = +st.slice(st.lastIndexOf(')') + 2).split(' ')[1]; (kids.get(ppid) ?? kids.set(ppid, []).get(ppid)).push(+p); } catch {}
  }
  const out = []; const todo = [pid];
  while (todo.length) { const p = todo.pop(); out.push(p); todo.push(...(kids.get(p) ?? [])); }
  return out;
}
function rssMB(pid) { let kb = 0; for (const p of tree(pid)) { try { kb += +readFileSync(`/proc/${p}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]; } catch {} } return Math.round(kb / 1024); }
function cpuTicks(pid) { let t = 0; for (const p of tree(pid)) { try { const f = readFileSync(`/proc/${p}/stat`, 'utf8').slice(0).split(') ')[1].split(' '); t += +f[11] + +f[12] + +f[13] + +f[14]; } catch {} } return t; }
const commits = (r) => +git(r, 'rev-list', '--count', 'HEAD').trim();
async function arrived(path, content, deadlineMs = 120_000) {
  const end = Date.now() + deadlineMs;
  for (;;) { try { if (readFileSync(path, 'utf8') === content) return true; } catch {} if (Date.now() > end) return false; await sleep(5); }
}
const before = { a: commits(a), b: commits(b) };
const t0 = performance.now();
const procs = [a, b].map((r) => spawn(process.execPath, [CLI, '-C', r, 'start', '--foreground'], { env, stdio: 'ignore' }));
const sock = (r) => join(r, '.git/autosync/control.sock');
async function answering(r) { for (;;) { try { await controlRequest(sock(r), { cmd: 'status' }, 2000); return performance.now() - t0; } catch {} await sleep(20); } }
const [statusA, statusB] = await Promise.all([answering(a), answering(b)]);
const atStatus = { a: commits(a), b: commits(b) };
const stamp = `ready ${Date.now()}\n`;
writeFileSync(join(a, 'd0000', 'ready.txt'), stamp);
await arrived(join(b, 'd0000', 'ready.txt'), stamp);
const readyMs = performance.now() - t0;
// wait until both are idle: no pending, scan over
for (let i = 0; i < 600; i++) { const s = await controlRequest(sock(a), { cmd: 'status' }, 5000); if (s.pendingChanges === 0 && !s.scanning) break; await sleep(100); }
await sleep(1500);
const lat = [];
for (let i = 0; i < 5; i++) {
  const c = `change ${i} ${Date.now()}\n`;
  const t = performance.now();
  writeFileSync(join(a, 'd0001', `edit.txt`), c);
  await arrived(join(b, 'd0001', 'edit.txt'), c);
  lat.push(performance.now() - t);
  await sleep(1000);
}
lat.sort((x, y) => x - y);
await sleep(2000);
const rss = { a: rssMB(procs[0].pid), b: rssMB(procs[1].pid) };
const c0 = cpuTicks(procs[0].pid) + cpuTicks(procs[1].pid);
const idleS = 10; await sleep(idleS * 1000);
const idleCpuPct = ((cpuTicks(procs[0].pid) + cpuTicks(procs[1].pid) - c0) / 100 / idleS / 2) * 100;
const st = await controlRequest(sock(a), { cmd: 'status' }, 5000);
console.log(JSON.stringify({ label, files: N, statusMs: Math.round(Math.max(statusA, statusB)), readyMs: Math.round(readyMs),
  committedAtStart: atStatus.a - before.a + atStatus.b - before.b, latencyMedianMs: Math.round(lat[2]), latencyMs: lat.map(Math.round),
  rssMB: rss, idleCpuPctPerAgent: +idleCpuPct.toFixed(2), watcher: st.services.find((s) => s.name === 'watcher')?.state }));
for (const r of [a, b]) await controlRequest(sock(r), { cmd: 'stop' }, 30_000).catch(() => {});
await Promise.all(procs.map((p) => p.exitCode !== null ? null : new Promise((r) => p.once('exit', r))));
