// Signalling a child process safely. Node 20's ChildProcess.kill() on a child whose spawn failed
// (ENOENT, say), called before its 'error' event, sends the signal to pid 0: every process of our
// own process group. A missing findmnt killed the agent's test runner that way, and the shell
// around it. A child with no pid is never signalled.
import type { ChildProcess } from 'node:child_process';

/** Sends sig to the child when it was started (has a pid) and has not exited; else nothing. */
export function killChild(child: ChildProcess | null | undefined, sig: NodeJS.Signals = 'SIGTERM'): boolean {
  if (!child || typeof child.pid !== 'number' || child.pid <= 0) return false;
  if (child.exitCode !== null || child.signalCode !== null) return false;
  return child.kill(sig);
}
