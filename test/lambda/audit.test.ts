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

test('a failed restore is emitted as the restore-failing alarm reads it: ChaosAction with service, action and outcome dimensions', () => {
  // GIVEN the Metrics the restore function gets (POWERTOOLS_SERVICE_NAME is chaos-<name>), and
  // its output captured
  const logger = new Logger({ serviceName: 'chaos-restore', logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: 'Chaos', serviceName: 'chaos-restore' });
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    // WHEN a restore is audited as failed
    powertoolsAudit(logger, metrics).record({
      experimentId: 'exp-1',
      action: 'restore',
      target: 'svc',
      outcome: 'failed',
    });
  } finally {
    write.mockRestore();
  }

  // THEN one EMF document carries ChaosAction=1 under exactly the alarm's dimensions
  const documents = lines
    .flatMap((line) => line.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(documents).toHaveLength(1);
  const [emf] = documents as Array<{
    _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> };
    [field: string]: unknown;
  }>;
  expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('Chaos');
  expect([...emf._aws.CloudWatchMetrics[0].Dimensions[0]].sort()).toEqual([
    'action',
    'outcome',
    'service',
  ]);
  expect(emf).toMatchObject({
    ChaosAction: 1,
    service: 'chaos-restore',
    action: 'restore',
    outcome: 'failed',
  });
});
