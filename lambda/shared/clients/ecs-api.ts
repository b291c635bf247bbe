import { EcsApi } from '../ecs-api';
import { requireEnv } from '../env';

import { once } from './once';

/** The function's small ECS client (`ecs-api.ts`). */
export const ecsApi = /* @__PURE__ */ once(() => new EcsApi({ region: requireEnv('AWS_REGION') }));
