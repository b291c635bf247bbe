import { Stack, Validations } from 'aws-cdk-lib';
import {
  CfnTaskDefinition,
  ContainerImage,
  FargateTaskDefinition,
  LogDrivers,
  NetworkMode,
} from 'aws-cdk-lib/aws-ecs';
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

import { nagResource } from './nag-finding';

/** The SSM agent image FIS documents for its aws:ecs:task actions. */
export const SSM_AGENT_IMAGE = 'public.ecr.aws/amazon-ssm-agent/amazon-ssm-agent:latest';

/** The tag FIS maps an ECS task to its SSM managed instance by (FIS user guide, ECS task actions). */
export const ECS_TASK_ARN_TAG = 'ECS_TASK_ARN';

/**
 * What a task definition lacks for FIS's aws:ecs:task-network-* actions on Fargate, one line per
 * prerequisite (docs/chaos.md, "ECS network faults: prerequisites"). Empty when ready.
 */
export function faultInjectionProblems(taskDefinition: FargateTaskDefinition): string[] {
  const cfn = taskDefinition.node.defaultChild as CfnTaskDefinition;
  const problems: string[] = [];
  if (taskDefinition.networkMode !== NetworkMode.AWS_VPC) {
    problems.push(`networkMode must be awsvpc, got ${taskDefinition.networkMode}`);
  }
  if (cfn.enableFaultInjection !== true) {
    problems.push(
      `enableFaultInjection must be true (ECS opens its fault injection endpoints only then), got ${String(cfn.enableFaultInjection)}`,
    );
  }
  if (cfn.pidMode !== 'task') {
    problems.push(
      `pidMode must be task (FIS's ECS network actions need it), got ${String(cfn.pidMode)}`,
    );
  }
  const platform = cfn.runtimePlatform as CfnTaskDefinition.RuntimePlatformProperty | undefined;
  if (platform?.operatingSystemFamily !== 'LINUX') {
    problems.push(
      `runtimePlatform.operatingSystemFamily must be LINUX (ECS fault injection is not available on Windows), got ${String(platform?.operatingSystemFamily)}`,
    );
  }
  return problems;
}

export interface FaultInjectionAgentProps {
  /** The task definition FIS injects into; it must already opt in (see `faultInjectionProblems`). */
  readonly taskDefinition: FargateTaskDefinition;
  /** Where the agent container logs. */
  readonly logGroup: ILogGroup;
  /**
   * The SSM agent image.
   * @default - `SSM_AGENT_IMAGE`, the image the FIS user guide names
   */
  readonly image?: ContainerImage;
}

/**
 * The SSM agent sidecar that FIS's aws:ecs:task actions need, Fargate included: it registers the
 * task as an SSM managed instance tagged `ECS_TASK_ARN=<task ARN>`, which is how FIS finds the
 * task to run its SSM document in (the network actions' documents then call the ECS fault
 * injection endpoints, with `useEcsFaultInjectionEndpoints: true`). On SIGTERM it deletes the
 * activation and deregisters the instance. Not essential: a failing agent never stops the task.
 *
 * IAM, as the FIS user guide lists it: the task role may create an activation (tagged for this
 * cluster only) and pass the managed-instance role to SSM; the managed-instance role has
 * AmazonSSMManagedInstanceCore plus deleting the activation and deregistering itself.
 */
export class FaultInjectionAgent extends Construct {
  /** The role SSM gives the tasks registered as managed instances. */
  public readonly managedInstanceRole: Role;

  constructor(scope: Construct, id: string, props: FaultInjectionAgentProps) {
    super(scope, id);
    const problems = faultInjectionProblems(props.taskDefinition);
    if (problems.length > 0) {
      throw new Error(
        `FaultInjectionAgent: the task definition is not ready for ECS fault injection:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      );
    }
    const stack = Stack.of(this);
    const taskRole = props.taskDefinition.taskRole;

    this.managedInstanceRole = new Role(this, 'ManagedInstanceRole', {
      assumedBy: new ServicePrincipal('ssm.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
      }),
      description: 'Tasks registered as SSM managed instances for FIS fault injection',
      managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    const managedInstances = stack.formatArn({
      service: 'ssm',
      resource: 'managed-instance',
      resourceName: '*',
    });
    this.managedInstanceRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ssm:DeregisterManagedInstance'],
        resources: [managedInstances],
      }),
    );
    // DeleteActivation supports no resource-level permission.
    this.managedInstanceRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ssm:DeleteActivation'], resources: ['*'] }),
    );

    // CreateActivation supports no resource-level permission: the request's tag holds it to
    // activations made for fault injection.
    taskRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ssm:CreateActivation', 'ssm:AddTagsToResource'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:RequestTag/FAULT_INJECTION_SIDECAR': 'true' } },
      }),
    );
    taskRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.managedInstanceRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
      }),
    );

    props.taskDefinition.addContainer('SsmAgent', {
      image: props.image ?? ContainerImage.fromRegistry(SSM_AGENT_IMAGE),
      essential: false,
      cpu: 0,
      memoryReservationMiB: 64,
      command: ['/bin/bash', '-c', REGISTER_SCRIPT],
      environment: { MANAGED_INSTANCE_ROLE_NAME: this.managedInstanceRole.roleName },
      logging: LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: 'ssm-agent' }),
    });

    Validations.of(props.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        "The SSM agent sidecar's only variable, MANAGED_INSTANCE_ROLE_NAME, is a role name, not a secret",
    });
    for (const role of [taskRole, this.managedInstanceRole]) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ssm:CreateActivation, ssm:AddTagsToResource (on the activation being created) and ssm:DeleteActivation support no resource-level permission; CreateActivation is held to activations tagged FAULT_INJECTION_SIDECAR=true',
      });
    }
    Validations.of(this.managedInstanceRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason:
        'The FIS user guide requires AmazonSSMManagedInstanceCore on the managed-instance role of ECS tasks registered for aws:ecs:task actions',
    });
    Validations.of(this.managedInstanceRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(stack.resolve(managedInstances))}]`,
      reason:
        'A task deregisters its own managed instance, whose id SSM assigns at registration (run time)',
    });
  }
}

/**
 * The sidecar's script: the steps of the FIS user guide's activation script (ECS task actions),
 * written out. It tags the activation with the task's AZ and ARN, which FIS targets by.
 */
const REGISTER_SCRIPT = [
  'set -e',
  'dnf upgrade -y && dnf install -y jq procps awscli',
  'cleanup() {',
  '  aws ssm delete-activation --activation-id "$ACTIVATION_ID" --region "$REGION" || echo "could not delete activation $ACTIVATION_ID" >&2',
  '  INSTANCE_ID=$(jq -e -r .ManagedInstanceID /var/lib/amazon/ssm/registration)',
  '  aws ssm deregister-managed-instance --instance-id "$INSTANCE_ID" --region "$REGION" || echo "could not deregister $INSTANCE_ID" >&2',
  '  kill -TERM "$AGENT_PID"',
  '}',
  'trap cleanup TERM INT',
  'if [ -z "$MANAGED_INSTANCE_ROLE_NAME" ]; then echo "MANAGED_INSTANCE_ROLE_NAME is not set" >&2; exit 1; fi',
  'if pgrep -f amazon-ssm-agent >/dev/null; then echo "an SSM agent already runs (ECS Exec must be off)" >&2; exit 1; fi',
  'if [ -z "$ECS_CONTAINER_METADATA_URI_V4" ]; then echo "no ECS task metadata endpoint" >&2; exit 1; fi',
  'TASK=$(curl -s "$ECS_CONTAINER_METADATA_URI_V4/task")',
  'AZ=$(echo "$TASK" | jq -e -r .AvailabilityZone)',
  `TASK_ARN=$(echo "$TASK" | jq -e -r .TaskARN)`,
  'REGION=${AZ%?}',
  'ACTIVATION=$(aws ssm create-activation --iam-role "$MANAGED_INSTANCE_ROLE_NAME" --region "$REGION" ' +
    `--tags Key=ECS_TASK_AVAILABILITY_ZONE,Value="$AZ" Key=${ECS_TASK_ARN_TAG},Value="$TASK_ARN" Key=FAULT_INJECTION_SIDECAR,Value=true)`,
  'ACTIVATION_ID=$(echo "$ACTIVATION" | jq -e -r .ActivationId)',
  'amazon-ssm-agent -register -code "$(echo "$ACTIVATION" | jq -e -r .ActivationCode)" -id "$ACTIVATION_ID" -region "$REGION"',
  'amazon-ssm-agent &',
  'AGENT_PID=$!',
  'wait "$AGENT_PID"',
].join('\n');
