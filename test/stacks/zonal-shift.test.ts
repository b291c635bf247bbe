import { Match, Template } from 'aws-cdk-lib/assertions';

import { nagErrors } from '../support/nag';
import { regionalStack as regionalStackOf } from '../support/regional-stack';

/** The eu-west-1 regional stack (test/support) and its template. */
function regionalStack(overrides: Record<string, unknown> = {}) {
  const { app, stack } = regionalStackOf(overrides);
  return { app, stack, template: Template.fromStack(stack) };
}

describe('zonal shift on the regional load balancer', () => {
  describe('with the default config', () => {
    const { app, stack, template } = regionalStack();

    test('enables ARC zonal shift on the ALB', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Type: 'application',
        LoadBalancerAttributes: Match.arrayWith([
          { Key: 'zonal_shift.config.enabled', Value: 'true' },
        ]),
      });
    });

    test('leaves cross-zone load balancing on for the target group, which ALB zonal shift supports', () => {
      const groups = Object.values(
        template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'),
      ) as { Properties: { TargetGroupAttributes?: { Key: string; Value: string }[] } }[];
      expect(groups.length).toBeGreaterThan(0);
      for (const g of groups) {
        const crossZone = (g.Properties.TargetGroupAttributes ?? []).find(
          (a) => a.Key === 'load_balancing.cross_zone.enabled',
        );
        expect(crossZone?.Value ?? 'use_load_balancer_configuration').not.toBe('false');
      }
    });

    test('configures no zonal autoshift: it is off by default', () => {
      template.resourceCountIs('AWS::ARCZonalShift::ZonalAutoshiftConfiguration', 0);
      expect(stack.zonalAutoshift).toBeUndefined();
    });

    test('passes every AwsSolutions check', () => {
      expect(nagErrors(app)).toEqual([]);
    });

    const albRef = { Ref: Match.stringLikeRegexp('^LoadBalancerAlb') };
    const onTheAlb = { StringEquals: { 'arc-zonal-shift:ResourceIdentifier': albRef } };

    test('lets the mitigation function start, cancel and read shifts of this ALB only, and list shifts', () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^GameDayZonalShiftRole') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Action: [
                'arc-zonal-shift:StartZonalShift',
                'arc-zonal-shift:CancelZonalShift',
                'arc-zonal-shift:GetManagedResource',
              ],
              Condition: onTheAlb,
              Effect: 'Allow',
              Resource: '*',
            },
            { Action: 'arc-zonal-shift:ListZonalShifts', Effect: 'Allow', Resource: '*' },
            { Action: 'ec2:DescribeAvailabilityZones', Effect: 'Allow', Resource: '*' },
          ]),
        },
      });
    });

    test('gives the mitigation function the ALB, the state table, the endpoint and its limits', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^Game day: zonal-shift'),
        Environment: {
          Variables: Match.objectLike({
            ZONAL_SHIFT_RESOURCE: albRef,
            HOLD_POLLS: '6',
            SHIFT_TIMEOUT_SECONDS: '300',
            MAX_FAULT_DURATION_MINUTES: '30',
          }),
        },
      });
    });

    test('lets restore cancel (only on this ALB) and list shifts, and tells it which ALB', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            ZONAL_SHIFT_RESOURCE: albRef,
            FAULTS_PARAMETER: Match.anyValue(),
          }),
        },
      });
      const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
      const restorePolicy = Object.values(
        template.findResources('AWS::IAM::Policy', {
          Properties: {
            PolicyDocument: {
              Statement: Match.arrayWith([
                Match.objectLike({
                  Action: 'arc-zonal-shift:CancelZonalShift',
                  Condition: onTheAlb,
                }),
              ]),
            },
          },
        }),
      );
      expect(restorePolicy).toHaveLength(1);
      expect(policies).not.toContain('"arc-zonal-shift:*"');
    });

    test('the state machine shifts az-outage away from the AZ after observing it, then restores', () => {
      const definition = (
        Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as {
          Properties: { DefinitionString: unknown };
        }[]
      )
        .map((m) => JSON.stringify(m.Properties.DefinitionString))
        .find((d) => d.includes('Observed enough?'));
      expect(definition).toBeDefined();
      for (const state of [
        'Start zonal shift',
        'Observe zonal shift',
        'Shifted?',
        'Wait (zonal shift)',
      ]) {
        expect(definition).toContain(state);
      }
      expect(definition).toContain('$.mitigationFailure');
    });
  });

  describe('with zonalShift.autoshift on', () => {
    const { app, template } = regionalStack({ zonalShift: { autoshift: true } });

    test('enables autoshift with the region-impaired alarm as outcome and healthy-hosts-low as blocking alarm', () => {
      template.hasResourceProperties('AWS::ARCZonalShift::ZonalAutoshiftConfiguration', {
        ResourceIdentifier: { Ref: Match.stringLikeRegexp('^LoadBalancerAlb') },
        ZonalAutoshiftStatus: 'ENABLED',
        PracticeRunConfiguration: {
          OutcomeAlarms: [
            {
              AlarmIdentifier: {
                'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsRegionImpaired'), 'Arn'],
              },
              Type: 'CLOUDWATCH',
            },
          ],
          BlockingAlarms: [
            {
              AlarmIdentifier: {
                'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsHealthyHostsLow'), 'Arn'],
              },
              Type: 'CLOUDWATCH',
            },
          ],
        },
      });
    });

    test('passes every AwsSolutions check', () => {
      expect(nagErrors(app)).toEqual([]);
    });
  });
});
