import { createElastiCacheClient } from '../cache-nodes';

import { once } from './once';

/** cache-outage's ElastiCache client (failures classified, see `cache-nodes.ts`). */
export const elastiCacheClient = /* @__PURE__ */ once(() => createElastiCacheClient());
