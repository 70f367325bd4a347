// `stop`: asks the running agent to stop (over the socket, else SIGTERM) and waits, bounded, until
// its process is gone; it commits what is pending and pushes once first.
import { discover } from '../../git/repo.js';
import { controlRequest } from '../../control/client.js';
import { isAlive, readPidFile } from '../../core/pidfile.js';
import type { Args } from '../args.js';
import { CliError } from '../exit-codes.js';
import { statePaths } from '../../git/state-paths.js';

export function run(args: Args): Promise<number> {
  return stop(args.cwd);
}

async function stop(cwd: string): Promise<number> {
  const info = await discover(cwd, { detachedOk: true });
  const pidPath = statePaths(info.stateDir).pid;
  const f = readPidFile(pidPath);
  if (!f || !isAlive(f.pid, f.start)) {
    process.stdout.write('git-autosync: no agent is running for this repository\n');
    return 0;
  }
  try {
    await controlRequest(statePaths(info.stateDir).sock, { cmd: 'stop' }, 10_000);
  } catch {
    process.kill(f.pid, 'SIGTERM'); // the socket is gone or stuck: the signal handler stops it cleanly
  }
  // The agent commits pending changes and pushes once before exiting; wait for it, bounded.
  const deadline = Date.now() + 120_000;
  // The pid file goes away just before the process exits; "stopped" means the process is gone.
  while (isAlive(f.pid, f.start)) {
    if (Date.now() > deadline)
      throw new CliError('agent-timeout', `the agent (pid ${f.pid}) did not stop within 120 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  process.stdout.write('git-autosync: agent stopped\n');
  return 0;
}
