import { Template } from 'aws-cdk-lib/assertions';

import {
  ECS_SERVICE_LINKED_ROLES,
  ServiceLinkedRoles,
} from '../../lib/constructs/service/service-linked-roles';
import { minimalRegion } from '../support/minimal-region';

type CustomResource = {
  Properties: { Create?: unknown; Update?: unknown; Delete?: unknown };
};
type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

/** A minimal region whose cluster and service wait for the roles. */
function region() {
  const { stack, cluster, service } = minimalRegion('eu-west-1');
  service.autoScaleTaskCount({ minCapacity: 3, maxCapacity: 6 });
  const roles = new ServiceLinkedRoles(stack, 'ServiceLinkedRoles');
  roles.requiredBy(cluster, service);
  return { stack, template: Template.fromStack(stack) };
}

/** The `Create` call of each role's custom resource, as the provider function reads it. */
function createCalls(template: Template) {
  return Object.entries(template.findResources('Custom::ServiceLinkedRole')).map(([id, r]) => {
    const { Properties } = r as CustomResource;
    expect(typeof Properties.Create).toBe('string');
    const create = JSON.parse(Properties.Create as string) as {
      service: string;
      action: string;
      parameters: Record<string, string>;
      ignoreErrorCodesMatching: string;
    };
    return { id, create, properties: Properties };
  });
}

describe('ServiceLinkedRoles', () => {
  test('creates the ECS and ECS-scaling roles in an account that never used them, before the first cluster', () => {
    // GIVEN
    const { template } = region();
    // THEN one IAM CreateServiceLinkedRole call per role
    const calls = createCalls(template);
    expect(calls.map((c) => [c.create.service, c.create.action, c.create.parameters])).toEqual(
      ECS_SERVICE_LINKED_ROLES.map((r) => [
        'IAM',
        'createServiceLinkedRole',
        { AWSServiceName: r.serviceName },
      ]),
    );
  });

  test('succeeds when the role already exists (IAM answers InvalidInput), so a second account stack or redeploy works', () => {
    // GIVEN
    const { template } = region();
    // THEN the "has been taken in this account" error counts as done
    for (const { create } of createCalls(template)) {
      const pattern = new RegExp(create.ignoreErrorCodesMatching);
      expect(pattern.test('InvalidInputException')).toBe(true);
      expect(pattern.test('InvalidInput')).toBe(true);
      expect(pattern.test('AccessDeniedException')).toBe(false);
    }
  });

  test('never deletes the roles on update or destroy: other stacks of the account use them', () => {
    const { template } = region();
    for (const { properties } of createCalls(template)) {
      expect(properties.Update).toBeUndefined();
      expect(properties.Delete).toBeUndefined();
    }
  });

  test('may create only these roles, for these services', () => {
    // GIVEN
    const { template } = region();
    // THEN
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
          .PolicyDocument.Statement,
    );
    const creates = statements.filter((s) =>
      [s.Action].flat().includes('iam:CreateServiceLinkedRole'),
    );
    expect(creates).toHaveLength(ECS_SERVICE_LINKED_ROLES.length);
    for (const role of ECS_SERVICE_LINKED_ROLES) {
      const statement = creates.find((s) => JSON.stringify(s.Resource).includes(role.roleName));
      expect(JSON.stringify(statement?.Resource)).toContain(
        `:role/aws-service-role/${role.serviceName}/${role.roleName}`,
      );
      expect(statement?.Condition).toEqual({
        StringLike: { 'iam:AWSServiceName': role.serviceName },
      });
    }
  });

  test('makes the cluster, the service and its scaling target wait for the roles', () => {
    // GIVEN
    const { template } = region();
    const roleIds = createCalls(template).map((c) => c.id);
    // THEN
    for (const type of [
      'AWS::ECS::Cluster',
      'AWS::ECS::Service',
      'AWS::ApplicationAutoScaling::ScalableTarget',
    ]) {
      const resources = Object.values(template.findResources(type));
      expect(resources).toHaveLength(1);
      const dependsOn = (resources[0] as { DependsOn?: string[] }).DependsOn ?? [];
      expect([type, ...roleIds.filter((id) => dependsOn.includes(id))]).toEqual([type, ...roleIds]);
    }
  });
});
