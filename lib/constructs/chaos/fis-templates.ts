import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ICluster } from 'aws-cdk-lib/aws-ecs';
import { CfnExperimentTemplate } from 'aws-cdk-lib/aws-fis';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

import { nagResource } from './nag-finding';

export interface ChaosExperimentTemplatesProps {
  /** The cluster whose tasks the experiments may touch (IAM holds them to it). */
  readonly cluster: ICluster;
  /** The stop condition: an experiment stops as soon as this alarm is in ALARM. */
  readonly regionImpairedAlarm: IAlarm;
  /** Share of the tagged tasks an experiment picks, 0 < share <= 1. */
  readonly maxTaskShare: number;
  /**
   * Add the CPU-stress template. Needs the SSM agent sidecar in the task definition.
   * @default false
   */
  readonly taskCpuStress?: boolean;
  /**
   * How long the CPU stress lasts.
   * @default Duration.minutes(5)
   */
  readonly cpuStressDuration?: Duration;
}

/** Tag that opts tasks in, as it does services for the chaos functions. */
const OPT_IN_TAGS = { 'chaos-enabled': 'true' };

/**
 * AWS FIS experiment templates, the AWS-native alternative to the chaos functions: stop a share
 * of the tasks tagged `chaos-enabled=true` (and, optionally, stress their CPU), each stopped the
 * moment the region-impaired alarm fires. No L2 exists for FIS, so this wraps the L1.
 *
 * Prerequisites (docs/chaos.md): the service propagates its tags to its tasks (`propagateTags:
 * SERVICE`) so that FIS finds them by tag; for CPU stress, the SSM agent sidecar FIS documents.
 */
export class ChaosExperimentTemplates extends Construct {
  /** The role FIS assumes to run the experiments. */
  public readonly role: Role;
  public readonly stopTasks: CfnExperimentTemplate;
  /** Present only with `taskCpuStress`. */
  public readonly cpuStress?: CfnExperimentTemplate;

  constructor(scope: Construct, id: string, props: ChaosExperimentTemplatesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const taskArns = stack.formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: `${props.cluster.clusterName}/*`,
    });
    const inCluster = { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } };

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('fis.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
      }),
      description: `FIS chaos experiments on ${props.cluster.clusterName}`,
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
        resources: [taskArns],
        conditions: inCluster,
      }),
    );
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ecs:ListTasks'], resources: ['*'], conditions: inCluster }),
    );
    // FIS reads the cluster before it resolves task targets (AWS's own ECS policy for FIS grants it).
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:DescribeClusters'],
        resources: [props.cluster.clusterArn],
      }),
    );
    // FIS resolves `resourceTags` targets through the Resource Groups Tagging API.
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['tag:GetResources'], resources: ['*'] }),
    );

    const stopConditions = [
      { source: 'aws:cloudwatch:alarm', value: props.regionImpairedAlarm.alarmArn },
    ];
    const percent = Math.max(1, Math.floor(props.maxTaskShare * 100));
    const tasks = {
      resourceType: 'aws:ecs:task',
      resourceTags: OPT_IN_TAGS,
      selectionMode: `PERCENT(${percent})`,
    };

    this.stopTasks = new CfnExperimentTemplate(this, 'StopTasks', {
      description: `Stop ${percent}% of the tasks tagged chaos-enabled=true; stops if the region is impaired`,
      roleArn: this.role.roleArn,
      stopConditions,
      targets: { Tasks: tasks },
      actions: { StopTasks: { actionId: 'aws:ecs:stop-task', targets: { Tasks: 'Tasks' } } },
      tags: { Name: `${stack.stackName}-stop-tasks` },
    });

    if (props.taskCpuStress) {
      const minutes = (props.cpuStressDuration ?? Duration.minutes(5)).toMinutes();
      this.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['ssm:SendCommand'],
          resources: [
            stack.formatArn({
              service: 'ssm',
              account: '',
              resource: 'document',
              resourceName: 'AWSFIS-Run-CPU-Stress',
            }),
            stack.formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }),
          ],
        }),
      );
      this.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['ssm:ListCommands', 'ssm:CancelCommand'],
          resources: ['*'],
        }),
      );
      this.cpuStress = new CfnExperimentTemplate(this, 'CpuStress', {
        description: `Stress the CPU of ${percent}% of the tagged tasks for ${minutes} min; stops if the region is impaired`,
        roleArn: this.role.roleArn,
        stopConditions,
        targets: { Tasks: tasks },
        actions: {
          CpuStress: {
            actionId: 'aws:ecs:task-cpu-stress',
            parameters: { duration: `PT${minutes}M`, percent: '80', installDependencies: 'true' },
            targets: { Tasks: 'Tasks' },
          },
        },
        tags: { Name: `${stack.stackName}-cpu-stress` },
      });
      const instances = nagResource(
        stack.resolve(
          stack.formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }),
        ),
      );
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${instances}]`,
        reason:
          'FIS runs its CPU-stress document on the SSM managed instances the task sidecars register, whose ids are only known at run time',
      });
    }

    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(stack.resolve(taskArns))}]`,
      reason:
        'FIS stops tasks whose ids are only known at run time; the ARN is fixed to this cluster and an ecs:cluster condition repeats the scope',
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'tag:GetResources, ecs:ListTasks and ssm:ListCommands/CancelCommand support no resource-level permission; ListTasks is held to this cluster by an ecs:cluster condition',
    });
  }
}
