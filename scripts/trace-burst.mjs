// Traces one burst into new folders (issue 10): a bare cloud.git, clones A and B, an agent on each;
// writes 1,000 files into one new folder (flat) or 5,000 into 250 new nested folders (nested), polls
// B until all are there, and prints the agents' log lines with times from the first write (level
// trace: every git call with its duration). A measuring tool, not a test: it sleeps to let the agents
// settle. Usage: npm run build; node scripts/trace-burst.mjs flat|nested trace|info "$PWD/dist"
import { mkdirSync, writeFileSync, readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
const [shape, level, dist] = process.argv.slice(2);
const { cloud } = await import(join(dist, 'test/helpers/topology.js'));
const { AgentProc } = await import(join(dist, 'test/helpers/agents.js'));
const root = mkdtempSync(join(tmpdir(), 'gas-trace-'));
const topo = cloud(root, ['A', 'B']);
const [A, B] = topo.clones;
const agents = [A, B].map((c) => new AgentProc(c, { GIT_AUTOSYNC_LOG_LEVEL: level }));
await Promise.all(agents.map((a) => a.start()));
await new Promise((r) => setTimeout(r, 1500)); // let both settle (trace tool, not a test)
const files = [];
if (shape === 'flat') {
  for (let i = 0; i < 1000; i++) files.push({ rel: `new1/f${String(i).padStart(4, '0')}.txt`, content: `${i}`.padEnd(127, 'x') + '\n' });
} else {
  const dirs = [];
  for (let g = 0; dirs.length < 250; g++) {
    let d = `arch/u${g}`;
    for (const s of ['', 'v', 'w', 'x']) { if (s) d += '/' + s; if (dirs.length < 250) dirs.push(d); }
  }
  let n = 0;
  for (const d of dirs) for (let i = 0; i < 20; i++, n++) files.push({ rel: `${d}/f${i}.dat`, dir: d, content: 'y'.repeat(64 + ((n * 37) % 449)) });
}
const t0 = Date.now();
const made = new Set();
for (const f of files) {
  const d = f.rel.slice(0, f.rel.lastIndexOf('/'));
  if (!made.has(d)) { mkdirSync(join(A, d), { recursive: true }); made.add(d); }
  writeFileSync(join(A, f.rel), f.content);
}
const tw = Date.now();
let idx = 0, firstB = 0;
const deadline = t0 + 60_000;
while (idx < files.length && Date.now() < deadline) {
  const f = files[idx];
  let ok = false;
  try { ok = readFileSync(join(B, f.rel), 'utf8') === f.content; } catch {}
  if (ok) { if (!firstB) firstB = Date.now(); idx++; continue; }
  await new Promise((r) => setTimeout(r, 5));
}
const tB = Date.now();
// wait for A's count of commits to settle
await new Promise((r) => setTimeout(r, 2000));
const { execFileSync } = await import('node:child_process');
const commitsA = execFileSync('git', ['-C', A, 'log', '--format=%H %s', `--since=@${Math.floor(t0 / 1000) - 1}`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
const tracked = execFileSync('git', ['-C', A, 'ls-files'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(files[0].rel.split('/')[0] + '/')).length;
const rel = (t) => `${String(t - t0).padStart(6)} ms`;
console.log(`shape=${shape} level=${level} files=${files.length} writes done ${rel(tw)}; first on B ${rel(firstB)}; all on B ${rel(tB)} (${idx}/${files.length}); commits on A ${commitsA.length}; tracked ${tracked}`);
function events(repo, tag) {
  const lines = readFileSync(join(repo, '.git/autosync/agent.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((o) => o.time >= t0 - 5);
  let changed = 0, firstCh = 0, lastCh = 0;
  for (const o of lines) {
    if (o.msg === 'changed') { changed++; firstCh ||= o.time; lastCh = o.time; continue; }
    if (o.msg === 'git') { console.log(`${tag} ${rel(o.time)} git ${o.git} wait ${o.waitMs} run ${o.runMs}`); continue; }
    const extra = Object.entries(o).filter(([k]) => !['level', 'time', 'pid', 'hostname', 'msg'].includes(k)).map(([k, v]) => `${k}=${JSON.stringify(v).slice(0, 60)}`).join(' ');
    console.log(`${tag} ${rel(o.time)} ${o.msg} ${extra}`);
  }
  if (changed) console.log(`${tag} watcher 'changed' events: ${changed}, first ${rel(firstCh)}, last ${rel(lastCh)}`);
}
const quietOut = process.env.TRACE_QUIET === '1';
const sums = {};
if (level !== 'info') {
  for (const [repo, tag] of [[A, 'A'], [B, 'B']]) {
    const lines = readFileSync(join(repo, '.git/autosync/agent.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((o) => o.time >= t0 - 5 && o.time <= tB);
    let runMs = 0, status = 0, statusMs = 0, n = 0;
    for (const o of lines) if (o.msg === 'git') { n++; runMs += o.runMs; if (o.git.startsWith('status')) { status++; statusMs += o.runMs; } }
    sums[tag] = `git calls ${n} (${runMs} ms), of them status ${status} (${statusMs} ms)`;
  }
  console.log(`SUMMARY ${shape} ${dist.includes('before') ? 'before' : 'after'} load ${(await import('node:os')).loadavg()[0].toFixed(1)} writes ${tw - t0} firstB ${firstB - t0} allB ${tB - t0} commits ${commitsA.length} | A: ${sums.A} | B: ${sums.B}`);
  if (!quietOut) { events(A, 'A'); events(B, 'B'); }
}
await Promise.all(agents.map((a) => a.stop().catch(() => a.kill9())));
rmSync(root, { recursive: true, force: true });
