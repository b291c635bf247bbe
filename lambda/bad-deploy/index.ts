/**
 * bad-deploy: the AWS "bad deploy" game day's ECS steps (see bad-deploy.ts and
 * docs/gameday-bad-deploy.md). A thin handler: validate, run one step, answer its result, or a
 * stable error code and message (no stack).
 */
import type { Context } from 'aws-lambda';

import { ecsApi } from '../shared/clients/ecs-api';
import { ChaosError } from '../shared/errors';
import { logger } from '../shared/powertools';

import {
  BadDeployError,
  deploymentOutcome,
  findStagedRevision,
  restoreRevision,
  stageBadRevision,
} from './bad-deploy';
import { loadBadDeployEnv, parseBadDeployEvent, type BadDeployEnv } from './event';

let env: BadDeployEnv | undefined;

export async function handler(raw: unknown, context: Context): Promise<unknown> {
  logger.resetKeys();
  logger.addContext(context);
  try {
    env ??= loadBadDeployEnv();
    const event = parseBadDeployEvent(raw);
    const ecs = ecsApi();
    const target = { cluster: env.cluster, service: env.service };
    switch (event.action) {
      case 'stage': {
        const expiresAt = new Date(Date.now() + env.faultMinutes * 60_000);
        const staged = await stageBadRevision(
          ecs,
          { ...target, containerName: env.containerName },
          expiresAt,
        );
        logger.info('bad-deploy staged', { audit: { action: 'stage', ...staged } });
        return { ok: true, ...staged };
      }
      case 'observe': {
        const staged = {
          previousTaskDefinition: event.previousTaskDefinition as string,
          badTaskDefinition: event.badTaskDefinition as string,
        };
        const result = await deploymentOutcome(ecs, target, staged);
        return { ok: true, ...result, done: result.outcome !== 'in-progress' };
      }
      case 'restore': {
        const staged =
          event.previousTaskDefinition !== undefined
            ? {
                previousTaskDefinition: event.previousTaskDefinition,
                ...(event.badTaskDefinition ? { badTaskDefinition: event.badTaskDefinition } : {}),
              }
            : await findStagedRevision(ecs, target);
        if (staged === undefined) {
          logger.info('bad-deploy restore: the service runs no bad-deploy revision');
          return { ok: true, rolledBack: false, deregistered: false };
        }
        const result = await restoreRevision(ecs, target, staged);
        logger.info('bad-deploy restored', { audit: { action: 'restore', ...result } });
        return { ok: true, ...result };
      }
    }
  } catch (error) {
    if (error instanceof ChaosError || error instanceof BadDeployError) {
      const code = error instanceof ChaosError ? error.code : 'REFUSED';
      logger.warn(`${code}: ${error.message}`);
      return { ok: false, error: { code, message: error.message } };
    }
    logger.error(
      'unexpected failure',
      error instanceof Error ? { error } : { error: String(error) },
    );
    throw Object.assign(
      new Error(
        `INTERNAL: bad-deploy failed unexpectedly; see its logs for request ${context.awsRequestId}`,
      ),
      { stack: '' },
    );
  }
}
