import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { runtimeNodeMajor, stagesNeedingEmulation } from '../../lib/doctor/dockerfile';
import {
  checkAlarmEmail,
  checkArm64Build,
  checkCdkOnPath,
  checkCdkVersions,
  checkContainerRuntime,
  checkNode,
  ProbeOutcome,
} from '../../lib/doctor/local-checks';

import { answer, fakeMachine, forkConfig, ROOT } from './support';

const PROBE: ProbeOutcome = {
  directory: '/tmp/blueprint-doctor-probe/assembly',
  schemaVersion: '55.0.0',
  matchingCliVersion: '2.1148.2',
};
const SERVICE_DOCKERFILE = readFileSync(join(ROOT, 'service', 'Dockerfile'), 'utf8');
/** A Dockerfile whose last stage installs packages: its RUN executes as ARM64. */
const EMULATED_DOCKERFILE = 'FROM node:22-alpine\nRUN apk add --no-cache curl\nCMD ["node"]\n';

describe('the Node.js check', () => {
  test.each([
    ['18.20.4', 'fail', '18.20.4 is older than 20, which the CDK app and tests need'],
    [
      '20.20.2',
      'warn',
      '20.20.2 works, but the service image and the Lambda functions run Node 22',
    ],
    ['22.11.0', 'ok', '22.11.0 (the service image and Lambda run Node 22)'],
  ])('judges Node %s as %s', (nodeVersion, status, detail) => {
    // WHEN
    const result = checkNode(fakeMachine({ nodeVersion }));
    // THEN
    expect(result).toMatchObject({ status, detail });
  });

  test('takes the version AWS runs from the service Dockerfile', () => {
    // GIVEN a fork whose image moved to Node 24
    const machine = fakeMachine({
      nodeVersion: '22.11.0',
      files: { 'service/Dockerfile': 'FROM node:24-alpine\nCMD ["node"]\n' },
    });
    // WHEN
    const result = checkNode(machine);
    // THEN
    expect(result).toMatchObject({
      status: 'warn',
      fix: expect.stringContaining('nvm install 24') as string,
    });
  });
});

describe('the container runtime check', () => {
  test('passes when docker info answers', async () => {
    // WHEN
    const result = await checkContainerRuntime(fakeMachine());
    // THEN
    expect(result).toMatchObject({ status: 'ok', detail: '`docker info` answers' });
  });

  test('uses the runtime CDK_DOCKER names, as cdk deploy does', async () => {
    // GIVEN finch instead of docker
    const machine = fakeMachine({
      env: { CDK_DOCKER: 'finch' },
      commands: { 'finch info': answer({ stdout: 'Client: ...' }) },
    });
    // WHEN
    const result = await checkContainerRuntime(machine);
    // THEN
    expect(result).toMatchObject({
      status: 'ok',
      detail: '`finch info` answers (from CDK_DOCKER)',
    });
    expect(machine.ran).toEqual(['finch info']);
  });

  test('fails when the runtime is not installed, naming it and the alternatives', async () => {
    // GIVEN CDK_DOCKER names a program that is not there
    const machine = fakeMachine({ env: { CDK_DOCKER: 'podman' } });
    // WHEN
    const result = await checkContainerRuntime(machine);
    // THEN
    expect(result).toMatchObject({
      status: 'fail',
      detail:
        'podman (from CDK_DOCKER) is not installed; cdk deploy builds the service image with it',
    });
    expect(result.fix).toContain('CDK_DOCKER=finch or CDK_DOCKER=podman');
  });

  test('fails with the runtime’s own words when its daemon is down', async () => {
    // GIVEN
    const machine = fakeMachine({
      commands: {
        'docker info': answer({
          exitCode: 1,
          stdout: 'Client:\n Version: 28.2.2\n',
          stderr:
            'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n',
        }),
      },
    });
    // WHEN
    const result = await checkContainerRuntime(machine);
    // THEN
    expect(result).toMatchObject({
      status: 'fail',
      detail:
        '`docker info` failed: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
    });
  });
});

describe('the ARM64 image build check', () => {
  const runtimeOk = {
    id: 'container',
    title: 'container runtime',
    status: 'ok',
    detail: '',
  } as const;

  test('needs no QEMU for the service Dockerfile, whose RUN steps run on the build platform', async () => {
    // GIVEN an x86 machine with buildx
    const machine = fakeMachine({ arch: 'x64' });
    // WHEN
    const result = await checkArm64Build(machine, runtimeOk);
    // THEN
    expect(result).toMatchObject({
      status: 'ok',
      detail:
        'x86 builds linux/arm64 (buildx v0.24.0; no QEMU needed: every RUN step runs on the build platform)',
    });
  });

  test('fails on x86 without buildx, which the Dockerfile’s RUN --mount needs', async () => {
    // GIVEN
    const machine = fakeMachine({
      arch: 'x64',
      commands: {
        'docker buildx version': answer({
          exitCode: 1,
          stderr:
            "docker: unknown command: docker buildx\n\nRun 'docker --help' for more information\n",
        }),
      },
    });
    // WHEN
    const result = await checkArm64Build(machine, runtimeOk);
    // THEN
    expect(result.status).toBe('fail');
    expect(result.detail).toContain(
      'docker buildx is missing (docker: unknown command: docker buildx)',
    );
    expect(result.fix).toContain('apt-get install docker-buildx-plugin');
  });

  test('fails on x86 Linux without QEMU when a RUN step executes as ARM64', async () => {
    // GIVEN a fork's Dockerfile that installs packages in its ARM64 stage
    const machine = fakeMachine({
      arch: 'x64',
      files: { 'service/Dockerfile': EMULATED_DOCKERFILE },
    });
    // WHEN
    const result = await checkArm64Build(machine, runtimeOk);
    // THEN
    expect(result).toMatchObject({
      status: 'fail',
      detail:
        'RUN steps of node:22-alpine execute as ARM64, and this x86 Linux machine has no QEMU for aarch64',
    });
    expect(result.fix).toContain('tonistiigi/binfmt --install arm64');
  });

  test('passes on x86 Linux with QEMU registered for aarch64', async () => {
    // GIVEN
    const machine = fakeMachine({
      arch: 'x64',
      files: {
        'service/Dockerfile': EMULATED_DOCKERFILE,
        '/proc/sys/fs/binfmt_misc/qemu-aarch64': 'enabled\ninterpreter /usr/bin/qemu-aarch64\n',
      },
    });
    // WHEN
    const result = await checkArm64Build(machine, runtimeOk);
    // THEN
    expect(result.status).toBe('ok');
    expect(result.detail).toContain('run under QEMU emulation');
  });

  test('builds natively on ARM64 and is skipped without a runtime', async () => {
    // WHEN
    const native = await checkArm64Build(fakeMachine({ arch: 'arm64' }), runtimeOk);
    const noRuntime = await checkArm64Build(fakeMachine(), { ...runtimeOk, status: 'fail' });
    // THEN
    expect(native).toMatchObject({
      status: 'ok',
      detail: 'this machine is ARM64, so the image builds natively',
    });
    expect(noRuntime).toMatchObject({ status: 'skip', skipReason: 'no container runtime answers' });
  });
});

describe('the CDK CLI and library check', () => {
  test('passes when the project’s CLI reads an assembly the library wrote', async () => {
    // GIVEN
    const machine = fakeMachine();
    // WHEN
    const result = await checkCdkVersions(machine, PROBE);
    // THEN
    expect(result).toMatchObject({
      status: 'ok',
      detail: "CLI 2.1148.1 reads library 2.276.0's cloud assemblies (schema 55.0.0)",
    });
    expect(machine.ran).toContain('cdk ls');
  });

  test('fails with the CLI’s own message and the matching version when it refuses the schema', async () => {
    // GIVEN a CLI of the 3.x line, as `npm install aws-cdk@latest` would bring
    const machine = fakeMachine({
      files: { 'node_modules/aws-cdk/package.json': '{"name":"aws-cdk","version":"3.0.0"}' },
      commands: {
        'cdk ls': answer({
          exitCode: 1,
          stderr:
            'This CDK CLI is not compatible with the CDK library used by your application. Please upgrade the CLI to the latest version.\n(Cloud assembly schema version mismatch: Maximum schema version supported is 54.x.x, but found 55.0.0.)\n',
        }),
      },
    });
    // WHEN
    const result = await checkCdkVersions(machine, PROBE);
    // THEN
    expect(result.status).toBe('fail');
    expect(result.detail).toContain(
      "CLI 3.0.0 refuses library 2.276.0's cloud assemblies (schema 55.0.0)",
    );
    expect(result.detail).toContain('Maximum schema version supported is 54.x.x, but found 55.0.0');
    expect(result.fix).toBe(
      'npm install --save-dev --save-exact aws-cdk@2.1148.2 (the CLI released with this library), then use npx cdk',
    );
  });

  test('fails when the CLI is not installed', async () => {
    // GIVEN
    const machine = fakeMachine({ files: { 'node_modules/aws-cdk/package.json': undefined } });
    // WHEN
    const result = await checkCdkVersions(machine, PROBE);
    // THEN
    expect(result).toMatchObject({
      status: 'fail',
      detail: 'aws-cdk not installed in node_modules',
      fix: 'run npm ci in the repository root',
    });
  });

  test('warns, pointing at cdk synth, when no probe assembly could be made', async () => {
    // WHEN
    const result = await checkCdkVersions(fakeMachine(), { error: 'EACCES: permission denied' });
    // THEN
    expect(result.status).toBe('warn');
    expect(result.detail).toContain('EACCES: permission denied');
  });

  test('warns about a global cdk of another version than the project’s', async () => {
    // GIVEN
    const machine = fakeMachine({
      onPath: { cdk: ['/usr/local/bin/cdk'] },
      commands: {
        '/usr/local/bin/cdk --version': answer({ stdout: '2.1010.0 (build 4a1b2c3)\n' }),
      },
    });
    // WHEN
    const result = await checkCdkOnPath(machine);
    // THEN
    expect(result).toMatchObject({
      status: 'warn',
      detail: '/usr/local/bin/cdk is 2.1010.0, the project’s CLI is 2.1148.1',
    });
  });

  test('ignores the project’s own cdk on PATH, as npm run puts it there', async () => {
    // GIVEN
    const machine = fakeMachine({ onPath: { cdk: [join(ROOT, 'node_modules', '.bin', 'cdk')] } });
    // WHEN
    const result = await checkCdkOnPath(machine);
    // THEN
    expect(result.status).toBe('ok');
    expect(machine.ran).toEqual([]);
  });
});

describe('the alarm e-mail check', () => {
  test('warns when nobody gets the alarms, and passes when someone does', () => {
    // WHEN
    const unset = checkAlarmEmail(forkConfig({ alarmEmail: undefined }));
    const set = checkAlarmEmail(forkConfig());
    // THEN
    expect(unset).toMatchObject({
      status: 'warn',
      detail: 'alarmEmail is not set: alarms publish to SNS topics that nobody subscribes to',
    });
    expect(set.status).toBe('ok');
  });
});

describe('reading a Dockerfile', () => {
  test('finds that the service image needs no emulation and runs Node 22', () => {
    // THEN
    expect(stagesNeedingEmulation(SERVICE_DOCKERFILE)).toEqual([]);
    expect(runtimeNodeMajor(SERVICE_DOCKERFILE)).toBe(22);
  });

  test('finds RUN steps of stages not pinned to the build platform, across continued lines', () => {
    // GIVEN
    const text = [
      'FROM --platform=${BUILDPLATFORM} node:22 AS build',
      'RUN npm ci \\',
      '    --ignore-scripts',
      'FROM public.ecr.aws/docker/library/node:20-slim',
      '# RUN commented out',
      'RUN apt-get update',
    ].join('\n');
    // THEN
    expect(stagesNeedingEmulation(text)).toEqual([
      { image: 'public.ecr.aws/docker/library/node:20-slim', onBuildPlatform: false, runSteps: 1 },
    ]);
    expect(runtimeNodeMajor(text)).toBe(20);
  });
});
