import { productionDeps } from '../shared/deps';
import { createGuardedHandler } from '../shared/handler';
import { targetGroupHealth } from '../shared/target-group-health';

import { latency, parseLatencyEvent } from './latency';

export const handler = createGuardedHandler(
  {
    name: 'latency',
    parse: parseLatencyEvent,
    run: latency,
    idempotencyKey: (event) => event.experimentId,
  },
  () => productionDeps({ targetHealth: targetGroupHealth }),
);
