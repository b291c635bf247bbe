import { ElastiCacheApi } from '../elasticache-api';
import { requireEnv } from '../env';

import { once } from './once';

/** cache-outage's small ElastiCache client (`elasticache-api.ts`). */
export const elastiCacheClient = /* @__PURE__ */ once(
  () => new ElastiCacheApi({ region: requireEnv('AWS_REGION') }),
);
