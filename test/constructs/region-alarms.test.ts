import { Template } from 'aws-cdk-lib/assertions';
import {
  ApplicationLoadBalancer,
  ApplicationProtocol,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';

import { RegionAlarms } from '../../lib/constructs/alarms/region-alarms';
import { minimalRegion } from '../support/minimal-region';

/** The composite "region impaired" alarm is the chaos preflight: with a canary, it fails closed. */

function regionAlarms(canaryTraffic: boolean | undefined) {
  const { stack, vpc, service } = minimalRegion('eu-west-1');
  const loadBalancer = new ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  const listener = loadBalancer.addListener('Http', {
    port: 80,
    protocol: ApplicationProtocol.HTTP,
  });
  const targetGroup = listener.addTargets('Service', {
    port: 8080,
    protocol: ApplicationProtocol.HTTP,
    targets: [service],
  });
  new RegionAlarms(stack, 'Alarms', {
    alarmNamePrefix: 'Blueprint-eu-west-1',
    region: 'eu-west-1',
    loadBalancer,
    targetGroup,
    service,
    cacheClusterId: 'cache',
    minHealthyHosts: 2,
    serviceMetricsNamespace: 'Blueprint/Service',
    canaryTraffic,
  });
  return Template.fromStack(stack);
}

type Alarm = { Properties: Record<string, unknown> };

function inspect(template: Template) {
  const resources = template.findResources('AWS::CloudWatch::Alarm') as Record<string, Alarm>;
  const idOf = (suffix: string): string => {
    const found = Object.entries(resources).find(
      ([, a]) => a.Properties.AlarmName === `Blueprint-eu-west-1-${suffix}`,
    );
    if (!found) throw new Error(`no alarm ${suffix}`);
    return found[0];
  };
  const composite = Object.values(
    template.findResources('AWS::CloudWatch::CompositeAlarm'),
  )[0] as Alarm;
  const rule = JSON.stringify(composite.Properties.AlarmRule);
  /** The states of a child that make the composite fire. */
  const firesOn = (suffix: string): string[] => {
    const id = idOf(suffix);
    return [...rule.matchAll(/(ALARM|INSUFFICIENT_DATA)\(\\"","?\{"Fn::GetAtt":\["([^"]+)"/g)]
      .filter((m) => m[2] === id)
      .map((m) => m[1]);
  };
  return { resources, idOf, firesOn, rule };
}

const DEPLOYMENT_CHILDREN = ['alb-5xx-rate', 'target-5xx-rate', 'zero-length-responses'];
const OTHER_CHILDREN = ['healthy-hosts-low', 'p99-latency'];

describe('the region-impaired composite with a canary (chaos enabled): fails closed', () => {
  const { resources, idOf, firesOn } = inspect(regionAlarms(true));

  test.each(OTHER_CHILDREN)(
    '%s breaches on missing data: the canary keeps data flowing, so none means not known healthy',
    (suffix) => {
      expect(resources[idOf(suffix)].Properties.TreatMissingData).toBe('breaching');
      expect(firesOn(suffix)).toEqual(['ALARM']);
    },
  );

  test.each(DEPLOYMENT_CHILDREN)(
    '%s without data makes the composite fire through INSUFFICIENT_DATA, yet never rolls a deployment back (ECS acts on ALARM only)',
    (suffix) => {
      expect(resources[idOf(suffix)].Properties.TreatMissingData).toBe('missing');
      expect(firesOn(suffix).sort()).toEqual(['ALARM', 'INSUFFICIENT_DATA']);
    },
  );

  test.each(['alb-5xx-rate', 'target-5xx-rate'])(
    '%s fills the 5xx count the ALB leaves out when zero, so only a missing request count is missing',
    (suffix) => {
      const metrics = resources[idOf(suffix)].Properties.Metrics as { Expression?: string }[];
      expect(metrics.find((m) => m.Expression)?.Expression).toBe(
        'IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)',
      );
    },
  );
});

describe('the region-impaired composite without a canary (no chaos): quiet when idle', () => {
  const { resources, idOf, firesOn } = inspect(regionAlarms(undefined));

  test.each([...DEPLOYMENT_CHILDREN, 'p99-latency'])(
    '%s treats missing data as not breaching, and only its ALARM counts',
    (suffix) => {
      expect(resources[idOf(suffix)].Properties.TreatMissingData).toBe('notBreaching');
      expect(firesOn(suffix)).toEqual(['ALARM']);
    },
  );
});
