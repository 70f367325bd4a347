// What a running agent shows the outside: the services its control verbs and its status read
// (Running, built by Agent.startLocked), the control server that answers the CLI, and the status.
// Waits on control requests (one JSON line each, control/server.ts); produces their answers.
import { statePaths } from '../git/state-paths.js';
import type { RepoInfo } from '../git/repo.js';
import type { GitSync } from '../git/sync.js';
import type { Supervisor } from '../core/service.js';
import type { Committer } from '../agent/committer.js';
import type { Merger } from '../agent/merger.js';
import type { Pusher } from '../agent/pusher.js';
import type { PauseState } from '../agent/pause.js';
import { ControlServer } from '../control/server.js';
import { handleControl } from '../control/handlers.js';
import { buildStatus } from '../status/build.js';
import type { StatusJson } from '../status/types.js';
import type { SignalTransport } from '../signal/types.js';
import type { TransferService } from '../transfer/service.js';
import type { AfterWork } from './after-work.js';
import type { AfterPush } from './after-push.js';
import type { AvailableRemotes } from '../agent/mounts.js';
import type { MapService } from './map-service.js';

/** The services of a running agent that its verbs, its status and its stop use. */
export interface Running {
  committer: Committer;
  merger: Merger;
  pusher: Pusher;
  /** What peers are told through: XMPP when an account is set, else the refs watch. */
  signal: SignalTransport;
  /** Annex mode only: moves content (flood sync, the cloud bridge). */
  transfers: TransferService | null;
  pause: PauseState;
  after: AfterWork;
  afterPush: AfterPush;
  /** Which remotes can be used now (a drive that is not mounted is away). */
  mounts: AvailableRemotes;
  /** Annex mode with XMPP: the peers' edges and ours (app/map-service.ts); else null. */
  map: MapService | null;
}

export interface SurfaceDeps {
  info: RepoInfo;
  sync: GitSync;
  supervisor: Supervisor;
  /** The running services; null until they are built (nothing asks before: the server starts last). */
  running: () => Running | null;
  remoteNames: () => string[];
  /** Ask the agent to stop. */
  stop: () => void;
}

function runningOf(d: SurfaceDeps): Running {
  const r = d.running();
  if (!r) throw new Error('the agent is starting; try again');
  return r;
}

export async function agentStatus(d: SurfaceDeps): Promise<StatusJson> {
  const r = runningOf(d);
  return buildStatus({ ...r, ...d, largeFiles: () => r.after.largeFiles });
}

/** The control server of .git/autosync/control.sock, answering with the running services. */
export function agentControl(d: SurfaceDeps): ControlServer {
  return new ControlServer(statePaths(d.info.stateDir).sock, (req) => {
    const r = runningOf(d);
    const filesCommitted = () => r.after.filesCommitted;
    return handleControl({ ...r, ...d, status: () => agentStatus(d), filesCommitted }, req);
  });
}
