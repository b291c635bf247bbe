import { Stack, Validations } from 'aws-cdk-lib';
import { CfnPolicy } from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** The wildcards a policy is meant to hold; any other wildcard stays a cdk-nag finding. */
export interface ExpectedWildcards {
  /** Wildcard actions, e.g. `s3:GetObject*`. */
  readonly actions?: readonly string[];
  /** Resource expressions (tokens allowed) whose wildcard form is granted, e.g. `bucket.arnForObjects('*')`. */
  readonly resources?: readonly string[];
  /** Wildcard resources that the CDK names itself (its asset bucket), matched on cdk-nag's rendering. */
  readonly resourcePatterns?: readonly RegExp[];
}

interface PolicyStatementJson {
  readonly Effect?: string;
  readonly Action?: unknown;
  readonly Resource?: unknown;
}

const asArray = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * Renders a CloudFormation value the way cdk-nag names it in an IAM5 finding
 * (`Resource::<Bucket.Arn>/*`): `${X}` and references become `<X>`, joins are flattened.
 */
export function nagResourceName(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [delimiter, items] = v['Fn::Join'] as [string, unknown[]];
      return items.map(nagResourceName).join(delimiter);
    }
    if (v['Fn::Sub'] !== undefined) return nagResourceName(v['Fn::Sub']);
    if (Array.isArray(v['Fn::GetAtt'])) {
      const [resource, attribute] = v['Fn::GetAtt'] as unknown[];
      return `<${nagResourceName(resource)}.${nagResourceName(attribute)}>`;
    }
    if (v['Fn::ImportValue'] !== undefined) return nagResourceName(v['Fn::ImportValue']);
    if (v.Ref !== undefined) return `<${nagResourceName(v.Ref)}>`;
  }
  return JSON.stringify(value);
}

/**
 * Acknowledges, with `reason`, cdk-nag's AwsSolutions-IAM5 (wildcard permission) findings that
 * `expected` lists, on every IAM policy under `scope` (a role, say). cdk-nag 3 acknowledges one
 * finding id at a time, and an id names the rendered resource, which for a reference to another
 * stack takes its final form (`Fn::GetStackOutput`) only during synthesis. So the ids are worked
 * out then, in a construct validation: it runs after references are resolved and before cdk-nag
 * reads the tree, and reports nothing itself. Wildcards not listed stay findings.
 */
export function acknowledgeExpectedWildcards(
  scope: IConstruct,
  expected: ExpectedWildcards,
  reason: string,
): void {
  scope.node.addValidation({
    validate: () => {
      const stack = Stack.of(scope);
      const actions = new Set(expected.actions ?? []);
      const resources = new Set(
        (expected.resources ?? []).map((r) => nagResourceName(stack.resolve(r))),
      );
      const patterns = expected.resourcePatterns ?? [];
      const statements = scope.node
        .findAll()
        .filter((c): c is CfnPolicy => c instanceof CfnPolicy)
        .flatMap((policy) => {
          const document = stack.resolve(policy.policyDocument) as { Statement?: unknown };
          return asArray(document.Statement) as PolicyStatementJson[];
        });
      const findings = new Set<string>();
      for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
        for (const action of asArray(statement.Action)) {
          if (typeof action === 'string' && action.includes('*') && actions.has(action)) {
            findings.add(`Action::${action}`);
          }
        }
        for (const r of asArray(statement.Resource).map(nagResourceName)) {
          if (r.includes('*') && (resources.has(r) || patterns.some((p) => p.test(r)))) {
            findings.add(`Resource::${r}`);
          }
        }
      }
      for (const finding of findings) {
        Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
      }
      return [];
    },
  });
}
