/**
 * ELBv2's DescribeTargetHealth, the one ELBv2 call the chaos functions make, without
 * `@aws-sdk/client-elastic-load-balancing-v2` and the SDK's XML parser: the query protocol through
 * `AwsQueryApi`. It only reads, so every failure the client may ask again, it does.
 */
import { AwsQueryApi } from './aws-query-api';
import type { SignedClientOptions } from './signed-http';
import { sectionsOf, textOf } from './xml-text';

/** One member of TargetHealthDescriptions, as far as the target-health read needs it. */
export interface TargetHealthDescription {
  readonly Target?: { readonly Id?: string; readonly Port?: number };
  readonly TargetHealth?: { readonly State?: string };
}

/** The call the target-health read makes: what tests give in place of the signed client. */
export interface Elbv2Calls {
  describeTargetHealth(targetGroupArn: string): Promise<TargetHealthDescription[]>;
}

export class Elbv2Api implements Elbv2Calls {
  private readonly api: AwsQueryApi;

  constructor(options: SignedClientOptions) {
    this.api = new AwsQueryApi(
      {
        signingName: 'elasticloadbalancing',
        version: '2015-12-01',
        mutating: new Set(),
        throttling: new Set(['Throttling', 'ThrottlingException']),
      },
      options,
    );
  }

  describeTargetHealth(targetGroupArn: string): Promise<TargetHealthDescription[]> {
    return this.api.call(
      'DescribeTargetHealth',
      { TargetGroupArn: targetGroupArn },
      parseTargetHealth,
    );
  }
}

/**
 * The members of `<TargetHealthDescriptions>`; undefined when the answer has none (not even an
 * empty list). A member keeps only what it says: the caller refuses one without an id or state.
 */
export function parseTargetHealth(xml: string): TargetHealthDescription[] | undefined {
  const list =
    /<TargetHealthDescriptions\s*\/>|<TargetHealthDescriptions>([\s\S]*)<\/TargetHealthDescriptions>/.exec(
      xml,
    );
  if (!list) return undefined;
  return sectionsOf(list[1] ?? '', 'member').map((member) => {
    const target = sectionsOf(member, 'Target')[0];
    const health = sectionsOf(member, 'TargetHealth')[0];
    const port = target === undefined ? undefined : textOf(target, 'Port');
    return {
      ...(target === undefined
        ? {}
        : {
            Target: {
              Id: textOf(target, 'Id'),
              ...(port === undefined ? {} : { Port: Number(port) }),
            },
          }),
      ...(health === undefined ? {} : { TargetHealth: { State: textOf(health, 'State') } }),
    };
  });
}
