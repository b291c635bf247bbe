/**
 * How cdk-nag names a policy resource in a finding id (`AwsSolutions-IAM5[Resource::<this>]`):
 * `Fn::Join` flattened, `Ref`s and `Fn::GetAtt`s as `<LogicalId>` / `<LogicalId.Attr>`. Used to
 * acknowledge exactly one wildcard resource rather than every IAM5 finding.
 */
export function nagResource(resolved: unknown): string {
  if (typeof resolved === 'string') return resolved;
  if (typeof resolved === 'object' && resolved !== null) {
    const v = resolved as Record<string, unknown>;
    if ('Ref' in v) return `<${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(nagResource).join(separator);
    }
  }
  return JSON.stringify(resolved);
}
