import { productionDeps } from '../shared/deps';
import { createGuardedHandler } from '../shared/handler';

import { regionOutage, parseRegionOutageEvent } from './region-outage';

export const handler = createGuardedHandler(
  {
    name: 'region-outage',
    parse: parseRegionOutageEvent,
    run: regionOutage,
    idempotencyKey: (event) => event.experimentId,
  },
  productionDeps,
);
