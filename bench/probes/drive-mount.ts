// Probe, run by the bench's `drive` suite (bench/suites/drive.ts) inside a private mount namespace
// (`unshare --mount --propagation private`): how long a real agent takes from a drive being mounted
// to the drive's clone being in sync, git first (the new commit's ref), then content (the new key).
//
// A laptop annex clone with a real agent; a bare annex clone on an ext4 image, its remote `drive`.
// With the image unmounted, a file of CONTENT_BYTES is added on the laptop and committed (it cannot
// reach the drive). Then the image is mounted and the drive is polled every POLL_MS for the commit
// among its refs and for the key in its annex. Run RUNS times on one agent, unmounting in between;
// prints one line `RESULT <json>` on stdout. Never run outside a private mount namespace: it mounts.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AgentProc, cli } from '../../test/helpers/agents.js';
import { annex, hasKey, writeBig } from '../../test/helpers/annex.js';
import { git, initRepo, tmpDir, write } from '../../test/helpers/repos.js';
import { now, waitUntil } from '../lib/poll.js';

/** A small annexed file: the content step is measured, not the disk's throughput. */
const CONTENT_BYTES = 1024 * 1024;
/** Mounts measured, on one agent (median reported by the suite). */
const RUNS = 3;
/** The drive is polled this often: the result is at most this late. */
const POLL_MS = 5;
/** The bound is 5 s; a run that takes this long is reported as a timeout. */
const SYNC_TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  if (process.env.GAS_IN_MOUNT_NS !== '1') throw new Error('run me through bench/suites/drive.ts');
  const tmp = tmpDir('gas-bench-drive-');
  const media = join(tmp.path, 'media');
  const img = join(tmp.path, 'drive.img');
  const mount = () => execFileSync('mount', ['-o', 'loop', img, media]);
  const umount = () => execFileSync('umount', [media]);
  let agent: AgentProc | null = null;
  let mounted = false;
  try {
    mkdirSync(media);
    // git-annex keeps annex.diskreserve (100 MB by default) free on the drive: 256 MiB (sparse) leaves
    // room for the keys above it.
    execFileSync('truncate', ['-s', '256M', img]);
    execFileSync('mkfs.ext4', ['-q', '-F', img]);
    const laptop = initRepo(join(tmp.path, 'laptop'), { annex: true });
    write(laptop, 'README.txt', 'seed\n');
    git(laptop, 'add', '.');
    git(laptop, 'commit', '-q', '-m', 'seed');
    const onDrive = join(media, 'repo.git');
    mount();
    mounted = true;
    git(tmp.path, 'clone', '-q', '--bare', laptop, onDrive);
    annex(onDrive, 'init', '-q', 'drive');
    git(laptop, 'remote', 'add', 'drive', onDrive);
    git(laptop, 'config', 'remote.drive.annex-uuid', git(onDrive, 'config', 'annex.uuid').trim());
    const init = cli(['-C', laptop, 'init', '--yes']);
    if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
    // The two know each other as after any first sync: each is in the other's uuid.log, so the
    // laptop's planner counts the drive among the repositories that want the content.
    annex(laptop, 'sync', '--quiet', '--no-content', 'drive');
    umount();
    mounted = false;
    agent = new AgentProc(laptop);
    await agent.start();

    const samples: Array<{ gitMs: number | null; contentMs: number | null }> = [];
    for (let i = 0; i < RUNS; i++) {
      writeBig(join(laptop, `f${i}.bin`), CONTENT_BYTES);
      let key = '';
      await waitUntil(
        () => {
          try {
            key = git(laptop, 'annex', 'lookupkey', `f${i}.bin`).trim();
          } catch {
            return false;
          }
          return key !== '' && git(laptop, 'status', '--porcelain').trim() === '';
        },
        { timeoutMs: SYNC_TIMEOUT_MS, intervalMs: 20, what: 'the new file committed on the laptop' },
      );
      const head = git(laptop, 'rev-parse', 'HEAD').trim();
      const t0 = now();
      mount();
      mounted = true;
      let gitMs: number | null = null;
      let contentMs: number | null = null;
      const refsHaveHead = () =>
        git(onDrive, 'for-each-ref', '--format=%(objectname)').split('\n').includes(head);
      try {
        await waitUntil(
          () => {
            if (gitMs === null && refsHaveHead()) gitMs = now() - t0;
            if (contentMs === null && hasKey(onDrive, key)) contentMs = now() - t0;
            return gitMs !== null && contentMs !== null;
          },
          { timeoutMs: SYNC_TIMEOUT_MS, intervalMs: POLL_MS, what: 'the drive in sync' },
        );
      } catch {
        // A timeout: the sample says which step did not arrive (null); stderr says what was seen.
        const seen = spawnSync('git', ['annex', 'whereis', '--key', key], { cwd: laptop, encoding: 'utf8' });
        process.stderr.write(`timeout on mount ${i + 1}: whereis ${seen.stdout}${seen.stderr}\n`);
      }
      samples.push({ gitMs, contentMs });
      // Let the agent see the drive go before the next file (nothing is in flight: both arrived).
      umount();
      mounted = false;
      await waitUntil(
        async () => (await agent!.status()).remotes.some((r) => r.name === 'drive' && r.available === false),
        { timeoutMs: SYNC_TIMEOUT_MS, intervalMs: 20, what: 'the agent to see the drive away' },
      );
    }
    process.stdout.write(`RESULT ${JSON.stringify({ contentBytes: CONTENT_BYTES, samples })}\n`);
  } finally {
    await agent?.stop().catch(() => agent?.kill9());
    if (mounted) spawnSync('umount', [media]);
    // BENCH_KEEP=1 in the environment (not the --keep flag): the repositories and the agent's log stay, for debugging.
    if (process.env.BENCH_KEEP === '1') process.stderr.write(`kept ${tmp.path}\n`);
    else tmp.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`drive probe failed: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
