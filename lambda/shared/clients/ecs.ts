import type { ECSClient } from '@aws-sdk/client-ecs';

import { createEcsClient } from '../ecs-client';

import { once } from './once';

/** The function's ECS client (failures classified for chaos work, see `ecs-client.ts`). */
export const ecsClient = /* @__PURE__ */ once((): ECSClient => createEcsClient());
