// The new device's side of `pair --accept`: applies the settings the offering device sealed
// (pair/payload.ts has checked every field) to a directory, step by step, and undoes every step it
// did when a later one fails, so nothing it created is left behind. It waits on git, git-annex and
// the agent it starts; it produces an ApplyOutcome (ok, or the step that failed and why), which
// travels back to the offering device.
// Steps: target (what DIR is) -> clone (or the remote, in place) -> identity (the root commit) ->
// key (0600, never over another key) -> config (XMPP, repo id) -> annex (its own UUID) -> agent
// (started, and online on XMPP).
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { discover, ensureStateDir } from '../../git/repo.js';
import { Runner } from '../../git/runner.js';
import { statePaths } from '../../git/state-paths.js';
import { controlRequest } from '../../control/client.js';
import type { ApplyOutcome, PairSettings } from '../../pair/payload.js';
import type { StatusJson } from '../../status/types.js';
import { run as startAgent } from './start.js';

/** How long the new agent may take to log in to XMPP: a login is a few round trips; 30 s is a dead link. */
const ONLINE_TIMEOUT_MS = 30_000;
/** How often the new agent's status is read while it logs in. */
const ONLINE_POLL_MS = 200;

export interface ApplyContext {
  /** DIR as given (resolved), or null: the current directory if it is that repository, else ./<name>. */
  dir: string | null;
  cwd: string;
  /** This device's XMPP account and service (the user's own, or the offering account). */
  jid: string;
  service: string | null;
  /** Where the applied clone ended up, for the success line. */
  result?: { dir: string; inPlace: boolean };
}

class StepFailed extends Error {
  constructor(
    readonly step: string,
    reason: string,
  ) {
    super(reason);
  }
}

/** The first line git or we said, without the "fatal: " prefix: the reason shown on both screens. */
function reasonOf(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  const text = (err.stderr || err.message || String(e)).trim();
  return (text.split('\n').find((l) => l.trim()) ?? 'failed').replace(/^(fatal|error): /, '');
}

async function roots(dir: string): Promise<string[]> {
  const r = await new Runner(dir).git(['rev-list', '--max-parents=0', 'HEAD'], { okCodes: [128] });
  return r.stdout.split('\n').filter(Boolean);
}

async function isCloneOf(dir: string, root: string): Promise<boolean | null> {
  if (!existsSync(join(dir, '.git'))) return null;
  return (await roots(dir)).includes(root);
}

function derivedRepoId(keyHex: string): string {
  const key = Buffer.from(keyHex, 'hex');
  return createHash('sha256').update('git-autosync repository id\0').update(key).digest('hex').slice(0, 32);
}

/** Applies `s`; on failure undoes what it did and names the step. Never throws. */
export async function applySettings(s: PairSettings, ctx: ApplyContext): Promise<ApplyOutcome> {
  const undo: Array<() => Promise<void> | void> = [];
  let step = 'target';
  try {
    // ---- target: a new directory, an empty one, or a clone of this very repository.
    let target = ctx.dir;
    if (target === null)
      target = (await isCloneOf(ctx.cwd, s.repo.root)) ? ctx.cwd : join(ctx.cwd, s.repo.name);
    let inPlace = false;
    if (!existsSync(target)) {
      mkdirSync(target, { recursive: true });
      const made = target;
      undo.push(() => rmSync(made, { recursive: true, force: true }));
    } else {
      if (!statSync(target).isDirectory()) throw new StepFailed(step, `${target} is not a directory`);
      const same = await isCloneOf(target, s.repo.root);
      if (same === false)
        throw new StepFailed(
          'identity',
          `${target} is a clone of another repository (its root commit differs)`,
        );
      if (same) inPlace = true;
      else if (readdirSync(target).length > 0)
        throw new StepFailed(step, `${target} is not empty and not a clone; give an empty or new directory`);
      else {
        const made = target;
        undo.push(() => {
          for (const n of readdirSync(made)) rmSync(join(made, n), { recursive: true, force: true });
        });
      }
    }
    const git = new Runner(target);

    // ---- clone, or in place the shared remote.
    step = 'clone';
    if (!inPlace) {
      let last: unknown = null;
      let cloned = false;
      for (const url of s.remote.urls) {
        try {
          // "--" and the checked URL (payload.ts urlProblem): never an option, a local path or a helper.
          await git.git(['clone', '--quiet', '--origin', s.remote.name, '--', url, target]);
          cloned = true;
          break;
        } catch (e) {
          last = e;
        }
      }
      if (!cloned) throw new StepFailed(step, `git clone failed: ${reasonOf(last)}`);
      step = 'identity';
      if (!(await roots(target)).includes(s.repo.root))
        throw new StepFailed(step, 'the clone is not the repository offered (its root commit differs)');
    } else {
      const have = await git.git(['remote'], {});
      if (!have.stdout.split('\n').includes(s.remote.name)) {
        await git.git(['remote', 'add', '--', s.remote.name, s.remote.urls[0]!]);
        undo.push(async () => void (await git.git(['remote', 'remove', s.remote.name]).catch(() => {})));
      }
    }

    // ---- key: mode 0600, and never over another key.
    step = 'key';
    const info = await discover(target, { detachedOk: true });
    ensureStateDir(info);
    const keyFile = statePaths(info.stateDir).key;
    if (existsSync(keyFile)) {
      if (readFileSync(keyFile, 'utf8').trim() !== s.key)
        throw new StepFailed(step, `${keyFile} holds another key; move it away and pair again`);
    } else {
      writeFileSync(keyFile, s.key + '\n', { mode: 0o600, flag: 'wx' });
      chmodSync(keyFile, 0o600);
      undo.push(() => rmSync(keyFile, { force: true }));
    }

    // ---- config: this device's account, the repository's room, the repository id.
    step = 'config';
    const set = async (k: string, v: string) => {
      const old = await git.git(['config', '--local', '--get', k], { okCodes: [1] });
      await git.git(['config', '--local', k, v]);
      const before = old.code === 0 ? old.stdout.trim() : null;
      undo.push(async () => {
        await (
          before === null
            ? git.git(['config', '--local', '--unset', k], { okCodes: [5] })
            : git.git(['config', '--local', k, before])
        ).catch(() => {});
      });
    };
    await set('autosync.xmpp.jid', ctx.jid);
    const service = ctx.service ?? (s.xmpp.jid ? s.xmpp.service : undefined);
    if (service) await set('autosync.xmpp.service', service);
    if (s.xmpp.room) await set('autosync.xmpp.room', s.xmpp.room);
    if (s.repo.id !== derivedRepoId(s.key)) await set('autosync.repoId', s.repo.id);

    // ---- annex: its own UUID from git annex init (never a copied one), then group and wanted.
    if (s.annex) {
      step = 'annex';
      const uuid = await git.git(['config', '--local', '--get', 'annex.uuid'], { okCodes: [1] });
      if (uuid.code !== 0) await git.git(['annex', 'init', '--quiet']);
      await set('annex.addunlocked', 'true');
      const known = await git.git(['config', '--get', `remote.${s.remote.name}.annex-uuid`], {
        okCodes: [1],
      });
      if (known.code !== 0) await set(`remote.${s.remote.name}.annex-uuid`, s.annex.remoteUuid);
      await git.git(['annex', 'group', 'here', s.annex.group]);
      await git.git(['annex', 'wanted', 'here', s.annex.wanted]);
    }

    // ---- agent: started, and online with the key and account it was given.
    step = 'agent';
    const code = await startAgent({
      cwd: target,
      cwdGiven: true,
      verb: 'start',
      flags: new Map(),
      positional: [],
      debug: false,
      help: false,
    });
    if (code !== 0) throw new StepFailed(step, 'the agent did not start (the line above says why)');
    const sock = statePaths(info.stateDir).sock;
    undo.push(async () => void (await controlRequest(sock, { cmd: 'stop' }, 60_000).catch(() => {})));
    await waitOnline(sock);
    ctx.result = { dir: target, inPlace };
    return { ok: true };
  } catch (e) {
    for (const u of undo.reverse()) {
      try {
        await u();
      } catch {
        // Undo is best effort per step; the next one still runs.
      }
    }
    if (e instanceof StepFailed) return { ok: false, step: e.step, reason: e.message };
    return { ok: false, step, reason: reasonOf(e) };
  }
}

async function waitOnline(sock: string): Promise<void> {
  const deadline = Date.now() + ONLINE_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    const st = await controlRequest<StatusJson>(sock, { cmd: 'status' }, 5_000).catch(() => null);
    if (st?.signal?.state === 'online') return;
    last = st?.signal?.error ?? last;
    await new Promise((r) => setTimeout(r, ONLINE_POLL_MS));
  }
  throw new StepFailed('agent', `the agent did not get online on XMPP in 30 s${last ? `: ${last}` : ''}`);
}
