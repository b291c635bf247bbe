import { requireEnv } from '../env';
import { SsmApi } from '../ssm-api';

import { once } from './once';

/** The function's small SSM client (`ssm-api.ts`): the fault document. */
export const ssmApi = /* @__PURE__ */ once(() => new SsmApi({ region: requireEnv('AWS_REGION') }));
