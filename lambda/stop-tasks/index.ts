import { productionDeps, targetGroupHealth } from '../shared/deps';
import { createGuardedHandler } from '../shared/handler';

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
