// The registry of scenarios, in the order they run.
import { burst } from './burst.js';
import { idle } from './idle.js';
import { continuous, isolated } from './propagation.js';
import type { Scenario } from './types.js';

export const SCENARIOS: readonly Scenario[] = [isolated, continuous, burst, idle];
