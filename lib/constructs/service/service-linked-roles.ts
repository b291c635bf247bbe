import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  PhysicalResourceId,
} from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';

/** A service-linked role: the service that uses it and the role's fixed name. */
export interface ServiceLinkedRole {
  /** e.g. `ecs.amazonaws.com`. */
  readonly serviceName: string;
  /** e.g. `AWSServiceRoleForECS`. */
  readonly roleName: string;
}

/** The roles the regional service needs before its first deploy in an account. */
export const ECS_SERVICE_LINKED_ROLES: readonly ServiceLinkedRole[] = [
  { serviceName: 'ecs.amazonaws.com', roleName: 'AWSServiceRoleForECS' },
  {
    serviceName: 'ecs.application-autoscaling.amazonaws.com',
    roleName: 'AWSServiceRoleForApplicationAutoScaling_ECSService',
  },
];

/** What IAM answers when the role already exists: `InvalidInput ... has been taken in this account`. */
export const ROLE_EXISTS_ERROR = 'InvalidInput(Exception)?';

export interface ServiceLinkedRolesProps {
  /**
   * The roles to make sure of.
   * @default ECS_SERVICE_LINKED_ROLES - ECS and Application Auto Scaling for ECS
   */
  readonly roles?: readonly ServiceLinkedRole[];
}

/**
 * Makes sure the service-linked roles exist before the resources that need them, in an account
 * that never used those services. Without them, ECS and Application Auto Scaling create the role on
 * first use and can fail to assume it before it has propagated ("Unable to assume the service
 * linked role"). `AWS::IAM::ServiceLinkedRole` fails when the role exists, so a custom resource
 * calls `iam:CreateServiceLinkedRole` on create and treats "already exists" as done. The roles are
 * never deleted: other stacks and services of the account use them too.
 */
export class ServiceLinkedRoles extends Construct {
  public readonly roles: readonly ServiceLinkedRole[];

  constructor(scope: Construct, id: string, props: ServiceLinkedRolesProps = {}) {
    super(scope, id);
    this.roles = props.roles ?? ECS_SERVICE_LINKED_ROLES;
    const stack = Stack.of(this);
    // The provider function's own log group, so that it expires and goes with the stack.
    const logGroup = new LogGroup(this, 'ProviderLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    for (const role of this.roles) {
      const roleArn = stack.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: `aws-service-role/${role.serviceName}/${role.roleName}`,
      });
      new AwsCustomResource(this, role.roleName, {
        resourceType: 'Custom::ServiceLinkedRole',
        onCreate: {
          service: 'IAM',
          action: 'createServiceLinkedRole',
          parameters: { AWSServiceName: role.serviceName },
          physicalResourceId: PhysicalResourceId.of(role.roleName),
          ignoreErrorCodesMatching: ROLE_EXISTS_ERROR,
        },
        policy: AwsCustomResourcePolicy.fromStatements([
          new PolicyStatement({
            actions: ['iam:CreateServiceLinkedRole'],
            resources: [roleArn],
            conditions: { StringLike: { 'iam:AWSServiceName': role.serviceName } },
          }),
        ]),
        installLatestAwsSdk: false,
        logGroup,
      });
    }
    this.acknowledgeProvider();
  }

  /** Makes every CloudFormation resource under `dependents` wait for the roles. */
  public requiredBy(...dependents: IConstruct[]): void {
    for (const dependent of dependents) dependent.node.addDependency(this);
  }

  /** The CDK writes the one provider function per stack that every AwsCustomResource shares. */
  private acknowledgeProvider(): void {
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
    if (provider === undefined) return;
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The CDK pins the runtime of its AwsCustomResource provider; it moves with aws-cdk-lib.',
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'The CDK-written AwsCustomResource provider logs through the AWS basic execution policy.',
    });
  }
}

/** The construct id of the CDK's singleton AwsCustomResource provider function. */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';
