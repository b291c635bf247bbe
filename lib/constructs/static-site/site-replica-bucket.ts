import { Aws, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface SiteReplicaBucketProps {
  /**
   * What happens to the bucket when it leaves the stack. With `DESTROY` it is emptied first (every
   * object version); with `RETAIN` or `SNAPSHOT` it and its object versions outlive the stack.
   * @default RemovalPolicy.DESTROY - it holds only a copy of the site, which every deploy rewrites
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The static site's second copy, in another region: the destination of the site bucket's S3
 * replication and the fallback origin of the CloudFront origin group. It lives in a stack of its
 * own region (a regional stack), which deploys before the Global stack that replicates into it.
 */
export class SiteReplicaBucket extends Construct {
  public readonly bucket: IBucket;

  constructor(scope: Construct, id: string, props: SiteReplicaBucketProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Replication requires versioning on both sides.
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });

    // CloudFront reads the replica through Origin Access Control. The usual OAC grant names the
    // distribution's ARN, but the distribution lives in the Global stack, which deploys after this
    // one and depends on it (it replicates into this bucket and reads its domain name): naming the
    // distribution here would make the two stacks depend on each other. So the grant admits any
    // distribution of this account (SourceArn pattern plus SourceAccount): still no public access
    // and no other account's distribution, at the cost of trusting this account's other
    // distributions with these public web files.
    bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudFrontOriginAccessControl',
        principals: [new ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects('*')],
        conditions: {
          StringEquals: { 'AWS:SourceAccount': Stack.of(this).account },
          ArnLike: {
            'AWS:SourceArn': `arn:${Aws.PARTITION}:cloudfront::${Stack.of(this).account}:distribution/*`,
          },
        },
      }),
    );

    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Server access logs must go to a bucket in the same region, and this replica takes only ' +
        'S3 replication writes and CloudFront failover reads; the distribution access log in the ' +
        'Global stack records every viewer request, including those served from here.',
    });
    this.bucket = bucket;
  }
}
