/**
 * The clients only the game-day functions use, created once per function instance, as
 * lambda/shared/clients/ does for the chaos functions.
 */
import { once } from '../shared/clients/once';
import { requireEnv } from '../shared/env';
import { S3Objects } from '../shared/s3-objects';

/** The reporter's S3 writes: one signed PutObject (`s3-objects.ts`), not the SDK's S3 client. */
export const s3Objects = /* @__PURE__ */ once(
  () => new S3Objects({ region: requireEnv('AWS_REGION') }),
);
