import { productionDeps, targetGroupHealth } from '../shared/deps';
import { createGuardedHandler } from '../shared/handler';

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
