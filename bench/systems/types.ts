// What a benchmarked system has to provide. Scenarios only see this interface, so a new system (or a
// variant of one, e.g. git-autosync on annex repositories) is one more file here, and a new scenario
// runs against every system unchanged.
import type { AgentProcess } from '../lib/agent.js';
import type { Topology } from '../lib/topology.js';

export interface System {
  /** Short stable id, used in JSON and on the command line (`--system`). */
  readonly id: string;
  /** Name in tables. */
  readonly label: string;
  /** The reference the others are compared with (the git-annex assistant). */
  readonly anchor: boolean;
  /** Whether the topology is made of git-annex repositories. */
  readonly annex: boolean;
  /** Throws, with a message that says what is missing, when this system cannot run here at all. */
  available(): Promise<void>;
  /** System-specific preparation of a fresh topology (init, config), before any agent starts. */
  setup(topo: Topology): Promise<void>;
  /** Starts one agent in each clone (C too, in the chain layout); returns once the processes exist
   * (not necessarily ready). */
  start(topo: Topology): Promise<AgentPair>;
}

export interface AgentPair {
  a: AgentProcess;
  b: AgentProcess;
  /** The chain layout's third agent. */
  c?: AgentProcess;
}
