// The registry of scenarios, in the order they run.
import { archive, burst, burstNewdir } from './burst.js';
import { idle } from './idle.js';
import { continuous, edit, isolated, relay, viaCloud } from './propagation.js';
import { scale } from './scale.js';
import type { AnyScenario } from './types.js';

export const SCENARIOS: readonly AnyScenario[] = [
  isolated,
  edit,
  relay,
  viaCloud,
  continuous,
  burst,
  burstNewdir,
  archive,
  idle,
  scale,
];
