import { productionDeps } from '../shared/deps';
import { createGuardedHandler } from '../shared/handler';
import { targetGroupHealth } from '../shared/target-group-health';

import { azOutage, parseAzOutageEvent } from './az-outage';

export const handler = createGuardedHandler(
  {
    name: 'az-outage',
    parse: parseAzOutageEvent,
    run: azOutage,
    idempotencyKey: (event) => event.experimentId,
  },
  () => productionDeps({ targetHealth: targetGroupHealth }),
);
