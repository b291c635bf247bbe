import { productionDeps } from '../shared/deps';
import { createGuardedHandler } from '../shared/handler';
import { targetGroupHealth } from '../shared/target-group-health';

import { stopTasks, parseStopTasksEvent } from './stop-tasks';

export const handler = createGuardedHandler(
  {
    name: 'stop-tasks',
    parse: parseStopTasksEvent,
    run: stopTasks,
    idempotencyKey: (event) => event.experimentId,
  },
  () => productionDeps({ targetHealth: targetGroupHealth }),
);
