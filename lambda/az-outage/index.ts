import { productionDeps, targetGroupHealth } from '../shared/deps';
import { createGuardedHandler } from '../shared/handler';

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
