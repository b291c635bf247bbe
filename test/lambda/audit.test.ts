import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

import { powertoolsAudit } from '../../lambda/shared/audit';

test('every audited action is one structured log line and one ChaosAction metric', () => {
  // GIVEN a real Logger and Metrics whose output is captured
  const logger = new Logger({ serviceName: 'chaos-test', logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: 'ChaosTest', serviceName: 'chaos-test' });
  const info = jest.spyOn(logger, 'info');
  const single = new Metrics({ namespace: 'ChaosTest', serviceName: 'chaos-test' });
  jest.spyOn(metrics, 'singleMetric').mockReturnValue(single);
  const addDimensions = jest.spyOn(single, 'addDimensions');
  const addMetric = jest.spyOn(single, 'addMetric').mockReturnValue(single);

  // WHEN
  const entry = {
    experimentId: 'exp-1',
    action: 'stop-task',
    target: 'abc',
    outcome: 'unknown',
    detail: 'TimeoutError: x',
  };
  powertoolsAudit(logger, metrics).record(entry);

  // THEN
  expect(info).toHaveBeenCalledWith('chaos stop-task unknown', { audit: entry });
  expect(addDimensions).toHaveBeenCalledWith({ action: 'stop-task', outcome: 'unknown' });
  expect(addMetric).toHaveBeenCalledWith('ChaosAction', MetricUnit.Count, 1);
});
