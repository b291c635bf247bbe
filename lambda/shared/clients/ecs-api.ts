import { EcsApi } from '../ecs-api';
import { requireEnv } from '../env';

import { once } from './once';

/** The function's small ECS client (`ecs-api.ts`), for a function that needs no other ECS call. */
export const ecsApi = /* @__PURE__ */ once(() => new EcsApi({ region: requireEnv('AWS_REGION') }));
