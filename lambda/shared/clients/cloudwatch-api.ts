import { CloudWatchApi } from '../cloudwatch-api';
import { requireEnv } from '../env';

import { once } from './once';

/** The function's small CloudWatch client (`cloudwatch-api.ts`): alarm states. */
export const cloudWatchApi = /* @__PURE__ */ once(
  () => new CloudWatchApi({ region: requireEnv('AWS_REGION') }),
);
