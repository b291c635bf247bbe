/** One `FROM` stage of a Dockerfile, as far as the doctor cares. */
export interface DockerfileStage {
  /** The image it starts from, e.g. `node:22-alpine`. */
  readonly image: string;
  /** `FROM --platform=$BUILDPLATFORM`: its steps run on the builder's own platform. */
  readonly onBuildPlatform: boolean;
  /** How many `RUN` steps it has. */
  readonly runSteps: number;
}

/** Joins `\`-continued lines and drops comments, so each instruction is one line. */
function instructions(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

export function parseStages(text: string): DockerfileStage[] {
  const stages: { image: string; onBuildPlatform: boolean; runSteps: number }[] = [];
  for (const line of instructions(text)) {
    const [keyword, ...rest] = line.split(/\s+/);
    if (/^from$/i.test(keyword)) {
      const flags = rest.filter((word) => word.startsWith('--'));
      const image = rest.find((word) => !word.startsWith('--')) ?? '';
      const onBuildPlatform = flags.some((f) => /^--platform=\$\{?BUILDPLATFORM\}?$/.test(f));
      stages.push({ image, onBuildPlatform, runSteps: 0 });
    } else if (/^run$/i.test(keyword) && stages.length > 0) {
      stages[stages.length - 1].runSteps += 1;
    }
  }
  return stages;
}

/**
 * Stages whose `RUN` steps execute on the target platform. Building them for ARM64 on an x86
 * machine needs QEMU emulation; stages pinned to `$BUILDPLATFORM` do not.
 */
export function stagesNeedingEmulation(text: string): DockerfileStage[] {
  return parseStages(text).filter((s) => !s.onBuildPlatform && s.runSteps > 0);
}

/** The Node major version of the image the container runs (the last stage), if it is a node image. */
export function runtimeNodeMajor(text: string): number | undefined {
  const stages = parseStages(text);
  const last = stages[stages.length - 1];
  const match = last && /^(?:[\w.-]+\/)*node:(\d+)/.exec(last.image);
  return match ? Number(match[1]) : undefined;
}
