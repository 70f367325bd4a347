// `git autosync demo`: the main job on the embedded default, with no account and no server. Makes a
// bare "cloud" repository and three clones in a temp dir, runs a real agent on each clone (separate
// processes), then changes files and shows each change arriving live on the other clones, ending
// with a conflict that keeps both versions.
import { killChild } from '../../core/kill.js';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { childEnv } from '../../git/runner.js';
import {
  mkdtempSync,
  writeFileSync,
  readFileSync,
  existsSync,
  rmSync,
  renameSync,
  readdirSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../../control/client.js';
import type { Args } from '../args.js';

/** How long the demo waits for any one change before calling it failed. */
const STEP_DEADLINE_MS = 30_000;

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));
const ENV = {
  ...childEnv({}, 'user'),
  GIT_AUTHOR_NAME: 'demo',
  GIT_AUTHOR_EMAIL: 'demo@example.invalid',
  GIT_COMMITTER_NAME: 'demo',
  GIT_COMMITTER_EMAIL: 'demo@example.invalid',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function until(what: string, check: () => boolean): Promise<number> {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > STEP_DEADLINE_MS)
      throw new Error(`demo: ${what} did not happen within 30 s`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - t0;
}

const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : null);

export function run(args: Args): Promise<number> {
  return demo({ keep: args.flags.has('--keep'), annex: args.flags.has('--annex') });
}

export async function demo(opts: { keep: boolean; annex: boolean }): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'git-autosync-demo-'));
  const cloud = join(root, 'cloud.git');
  const names = ['laptop', 'desktop', 'server'];
  const clones = names.map((n) => join(root, n));
  const agents: ChildProcess[] = [];
  const say = (s: string) => process.stdout.write(s + '\n');
  try {
    say(`git-autosync demo in ${root}`);
    git(root, 'init', '-q', '--bare', '-b', 'main', cloud);
    const seed = join(root, 'seed');
    git(root, 'init', '-q', '-b', 'main', seed);
    writeFileSync(join(seed, 'README.txt'), 'A folder kept in sync by git-autosync.\n');
    git(seed, 'add', '.');
    git(seed, 'commit', '-q', '-m', 'start');
    git(seed, 'push', '-q', cloud, 'main');
    rmSync(seed, { recursive: true, force: true });
    for (const c of clones) {
      git(root, 'clone', '-q', cloud, c);
      if (opts.annex) execFileSync('git', ['annex', 'init', '-q'], { cwd: c, env: ENV });
      execFileSync(process.execPath, [CLI, '-C', c, 'init', '--yes'], { env: ENV, stdio: 'ignore' });
    }
    // One shared key, as a user would copy it when pairing.
    const key = readFileSync(join(clones[0]!, '.git/autosync/key'));
    for (const c of clones.slice(1)) writeFileSync(join(c, '.git/autosync/key'), key, { mode: 0o600 });

    say(
      `starting ${clones.length} agents (laptop, desktop, server), each a clone of a shared bare "cloud" repository`,
    );
    for (const c of clones) {
      agents.push(
        spawn(process.execPath, [CLI, '-C', c, 'start', '--foreground'], { env: ENV, stdio: 'ignore' }),
      );
    }
    for (const c of clones) {
      const sock = join(c, '.git/autosync/control.sock');
      const t0 = performance.now();
      for (;;) {
        const up = await controlRequest(sock, { cmd: 'status' }, 2_000).then(
          () => true,
          () => false,
        );
        if (up) break;
        if (performance.now() - t0 > STEP_DEADLINE_MS)
          throw new Error(`demo: the agent for ${c} did not start`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const [laptop, desktop, server] = clones as [string, string, string];

    say('\n1. laptop writes notes.txt');
    // Both arrivals are timed from the write (each wait alone would time the second one from the
    // first arrival).
    const t1 = performance.now();
    writeFileSync(join(laptop, 'notes.txt'), 'buy milk\n');
    for (const [n, c] of [
      ['desktop', desktop],
      ['server', server],
    ] as const) {
      await until(`notes.txt on ${n}`, () => read(join(c, 'notes.txt')) === 'buy milk\n');
      const ms = performance.now() - t1;
      say(`   arrived on ${n.padEnd(8)} ${ms.toFixed(0).padStart(5)} ms after the write`);
    }

    say('\n2. desktop edits it');
    const t2 = performance.now();
    writeFileSync(join(desktop, 'notes.txt'), 'buy milk\nand bread\n');
    await until('edit on laptop', () => read(join(laptop, 'notes.txt')) === 'buy milk\nand bread\n');
    say(`   laptop sees the edit ${(performance.now() - t2).toFixed(0)} ms later`);
    // Step 3 renames the file on the server: wait until the edit is there too, or the rename and the
    // edit would be concurrent (and both versions would be kept, as the conflict rules say).
    await until('edit on server', () => read(join(server, 'notes.txt')) === 'buy milk\nand bread\n');

    say('\n3. server makes a folder, renames notes.txt into it, and adds 200 files at once');
    mkdirSync(join(server, 'lists'), { recursive: true });
    renameSync(join(server, 'notes.txt'), join(server, 'lists/notes.txt'));
    for (let i = 0; i < 200; i++) writeFileSync(join(server, 'lists', `item-${i}.txt`), `item ${i}\n`);
    const t3 = performance.now();
    await until('the burst on laptop', () => {
      try {
        return readdirSync(join(laptop, 'lists')).length === 201 && !existsSync(join(laptop, 'notes.txt'));
      } catch {
        return false;
      }
    });
    say(`   all 201 files are on laptop ${(performance.now() - t3).toFixed(0)} ms after the last write`);

    say('\n4. laptop and desktop both edit the same file at the same moment');
    writeFileSync(join(laptop, 'plan.txt'), 'plan from the laptop\n');
    writeFileSync(join(desktop, 'plan.txt'), 'plan from the desktop\n');
    // In annex mode a file whose content has not arrived yet holds git-annex's pointer text: wait
    // for the content too, so what is printed below is what the user wrote on each clone.
    const pointer = (text: string | null) => text === null || text.startsWith('/annex/objects/');
    const converged = () => {
      const lists = clones.map((c) =>
        readdirSync(c)
          .filter((f) => f.startsWith('plan'))
          .sort()
          .join(','),
      );
      if (!lists.every((l) => l === lists[0] && l.split(',').length === 2)) return false;
      return clones.every((c) => lists[0]!.split(',').every((f) => !pointer(read(join(c, f)))));
    };
    await until('the conflict to settle', converged);
    const files = readdirSync(laptop)
      .filter((f) => f.startsWith('plan'))
      .sort();
    say('   no version is lost; every clone now has:');
    for (const f of files) say(`     ${f.padEnd(28)} ${read(join(laptop, f))!.trim()}`);

    say('\nstopping the agents (each commits what is pending first)');
    for (const c of clones)
      await controlRequest(join(c, '.git/autosync/control.sock'), { cmd: 'stop' }).catch(() => undefined);
    await Promise.all(
      agents.map((a) => new Promise((r) => (a.exitCode !== null ? r(null) : a.once('exit', r)))),
    );
    const heads = clones.map((c) => git(c, 'rev-parse', 'HEAD').trim());
    say(
      `all three clones are at commit ${heads[0]!.slice(0, 12)}: ${heads.every((h) => h === heads[0]) ? 'in sync' : 'NOT in sync'}`,
    );
    return heads.every((h) => h === heads[0]) ? 0 : 1;
  } finally {
    for (const a of agents) if (a.exitCode === null) killChild(a, 'SIGTERM');
    if (opts.keep) say(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}
