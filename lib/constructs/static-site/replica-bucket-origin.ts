import {
  CfnDistribution,
  IOriginAccessControl,
  OriginBase,
  OriginBindConfig,
  OriginBindOptions,
  OriginProps,
} from 'aws-cdk-lib/aws-cloudfront';
import { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * An S3 origin read through Origin Access Control whose bucket policy is written by the bucket's
 * own stack (see `SiteReplicaBucket`). `S3BucketOrigin.withOriginAccessControl` would instead add a
 * statement naming this distribution to the bucket's policy, which for a bucket in a stack that
 * deploys earlier would make the stacks depend on each other.
 */
export class ReplicaBucketOrigin extends OriginBase {
  constructor(
    bucket: IBucket,
    private readonly originAccessControl: IOriginAccessControl,
    props: OriginProps = {},
  ) {
    super(bucket.bucketRegionalDomainName, props);
  }

  public override bind(scope: Construct, options: OriginBindOptions): OriginBindConfig {
    const config = super.bind(scope, options);
    return {
      ...config,
      originProperty: config.originProperty && {
        ...config.originProperty,
        originAccessControlId: this.originAccessControl.originAccessControlId,
      },
    };
  }

  protected override renderS3OriginConfig(): CfnDistribution.S3OriginConfigProperty {
    // With OAC the origin access identity stays empty.
    return { originAccessIdentity: '' };
  }
}
