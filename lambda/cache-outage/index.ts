import { elastiCacheNodes } from '../shared/cache-nodes';
import { elastiCacheClient } from '../shared/clients/elasticache';
import { productionDeps } from '../shared/deps';
import { createGuardedHandler } from '../shared/handler';
import { targetGroupHealth } from '../shared/target-group-health';

import { cacheOutage, parseCacheOutageEvent } from './cache-outage';

export const handler = createGuardedHandler(
  {
    name: 'cache-outage',
    parse: parseCacheOutageEvent,
    run: cacheOutage,
    idempotencyKey: (event) => event.experimentId,
  },
  () =>
    productionDeps({
      cacheNodes: () => elastiCacheNodes(elastiCacheClient()),
      targetHealth: targetGroupHealth,
    }),
);
