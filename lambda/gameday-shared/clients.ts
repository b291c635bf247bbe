/**
 * The SDK clients only the game-day functions use, created once per function instance,
 * as lambda/shared/clients/ does for the chaos functions.
 */
import { S3Client } from '@aws-sdk/client-s3';

import { clientConfig } from '../shared/aws-client-config';

let s3: S3Client | undefined;

export const s3Client = (): S3Client => (s3 ??= new S3Client(clientConfig()));
