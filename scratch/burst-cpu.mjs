// The agent's own CPU for a burst of 1,000 files into the top folder of a watched tree: the watcher
// and the committer of a build, in this process, with a stand-in for GitSync (no git is spawned).
// The files are written by a child process, as the bench harness writes them, so only the agent's
// side is counted. Prints this process's CPU (user + sys) from the first write until 1 s after the
// last, and the writer's own time. Wall clock moves with the machine's load; the CPU far less, and
// `strace -c node burst-cpu.mjs <worktree>` counts the lstat (statx) calls exactly.
// usage: node burst-cpu.mjs <worktree of a build (its dist/ built, test helpers included)>
// Works on builds with app/tree-watch.ts (one fs.watch per folder) and on dd490a0 (chokidar).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';

const wt = process.argv[2];
if (!wt) throw new Error('usage: node burst-cpu.mjs <worktree>');
const load = (p) => import(join(wt, 'dist', p));
const { Committer } = await load('src/agent/committer.js');
const { EventBus } = await load('src/core/bus.js');
const { createLogger } = await load('src/core/log.js');
const { Runner } = await load('src/git/runner.js');
const { fakeSync } = await load('test/helpers/fake-sync.js');

const dir = mkdtempSync(join(tmpdir(), 'burst-cpu-'));
execFileSync('git', ['init', '-q', dir]);
const log = createLogger({});
const f = fakeSync(dir);
const ctx = { fail: (e) => console.error('service failed', e) };
let committer;
let watcher;
if (existsSync(join(wt, 'dist/src/app/tree-watch.js'))) {
  const { treeWatch } = await load('src/app/tree-watch.js');
  committer = new Committer({ sync: f.sync, log, bus: new EventBus(), onCommitted: () => {} });
  ({ watcher } = treeWatch({ info: { workTree: dir }, runner: new Runner(dir), log, committer }));
} else {
  // dd490a0: positional constructors, chokidar inside the watcher.
  const { Watcher } = await load('src/agent/watcher.js');
  committer = new Committer(f.sync, log, new EventBus(), () => {});
  watcher = new Watcher(dir, new Runner(dir), log, (p) => committer.note(p), (d) => committer.noteDir(d));
}
await watcher.start(ctx);
await committer.start(ctx);
// Let the first scan and the watches settle before the burst (a wait for quiet, not a sync point).
await new Promise((r) => setTimeout(r, 300));

const writer =
  `const {writeFileSync}=require('fs');const t=performance.now();` +
  `for(let i=0;i<1000;i++)writeFileSync(${JSON.stringify(dir)}+'/f'+String(i).padStart(4,'0')+'.txt',` +
  `'file '+i+'\\n'+'x'.repeat(200)+'\\n');console.log((performance.now()-t).toFixed(0))`;
const c0 = process.cpuUsage();
const writeMs = await new Promise((resolve) => {
  let out = '';
  const p = spawn(process.execPath, ['-e', writer]);
  p.stdout.on('data', (d) => (out += d));
  p.on('exit', () => resolve(out.trim()));
});
await new Promise((r) => setTimeout(r, 1000));
const c = process.cpuUsage(c0);
const paths = f.commits.reduce((a, x) => a + x.length, 0);
console.log(
  `agent cpu ${((c.user + c.system) / 1000).toFixed(0)} ms (user ${(c.user / 1000).toFixed(0)}, ` +
    `sys ${(c.system / 1000).toFixed(0)}), writer ${writeMs} ms, ${paths} paths in ${f.commits.length} commit(s)`,
);
await committer.stop();
await watcher.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
