/**
 * Draws BENCHMARKS.md from bench/results.json: every number with its unit, run count and
 * min/median/max, a sentence a newcomer understands, and what would make it better.
 */
import type { DetectionBudgets } from './detection';
import type { DevLoopResults } from './devloop';
import type { GamedayResults } from './gameday';
import type { LambdaResults } from './lambda';
import {
  isFailed,
  isSkipped,
  type BenchResults,
  type DetectionSection,
  type Failed,
  type Section,
  type Skipped,
  type SynthSection,
} from './results';
import type { ServiceResults, ServiceRun, ServiceScenario } from './service';
import { summarize, type Summary } from './stats';
import { SYNTH_ENVIRONMENT } from './synth';

/** "12.3 s (min 11.9, max 13.0; 5 runs)" */
export function figure(summary: Summary): string {
  const unit = summary.unit === '×' ? '×' : ` ${summary.unit}`;
  const value = `${summary.median}${unit}`;
  if (summary.runs === 1) return `${value} (1 run)`;
  return `${value} (min ${summary.min}, max ${summary.max}; ${summary.runs} runs)`;
}

/** A deterministic value read from N resources: "60 s (all 3 target groups)" or a range. */
function readValue(summary: Summary, noun: string): string {
  const where = `${summary.runs} ${noun}${summary.runs === 1 ? '' : 's'}`;
  if (summary.min === summary.max) return `${summary.median} ${summary.unit} (all ${where})`;
  return `${summary.median} ${summary.unit} (min ${summary.min}, max ${summary.max} over ${where})`;
}

function missing<T>(section: Section<T>): section is Skipped | Failed {
  return isSkipped(section) || isFailed(section);
}

function missingText(section: Skipped | Failed): string {
  if ('skipped' in section) return `_Not measured in this run: ${section.skipped}._`;
  return `**This part failed in this run:**\n\n\`\`\`\n${section.failed}\n\`\`\``;
}

function zeroLengthCell(budgets: DetectionBudgets): string {
  const z = budgets.zeroLength;
  if (!z.detected) return '**no**: every check reads only the status code';
  const layers = [
    z.byTargetHealthCheck ? 'the target check (deep readiness)' : '',
    z.byRoute53 ? 'Route 53 (string match)' : '',
  ].filter(Boolean);
  return `yes, by ${layers.join(' and ')}`;
}

function detection(section: Section<DetectionSection>): string {
  const lines = ['## 1. Failure detection budgets', ''];
  if (missing(section)) return [...lines, missingText(section)].join('\n');
  const { blueprint: bp, baseline: bl } = section;
  const ratio = (a: Summary, b: Summary) => `${Math.round((b.median / a.median) * 100) / 100}×`;
  lines.push(
    `Read from ${section.source} (not from config); where a template leaves a value out, AWS's documented default is used (ALB: 30 s interval, 2 failures, 300 s deregistration delay; Route 53: 30 s interval, 3 failures). These are budgets, not timings: the same templates give the same numbers on any machine.`,
    '',
    '| | blueprint (default config) | stock baseline | baseline ÷ blueprint |',
    '| --- | --- | --- | --- |',
    `| Target: time to stop sending new requests to a bad task (interval × unhealthy threshold) | ${readValue(bp.targetDetect, 'target group')} | ${readValue(bl.targetDetect, 'target group')} | ${ratio(bp.targetDetect, bl.targetDetect)} |`,
    `| Target: drain (deregistration delay) | ${readValue(bp.targetDrain, 'target group')} | ${readValue(bl.targetDrain, 'target group')} | ${ratio(bp.targetDrain, bl.targetDrain)} |`,
    `| **Time to eject a target** (detection + drain) | **${readValue(bp.targetTotal, 'target group')}** | **${readValue(bl.targetTotal, 'target group')}** | **${section.targetTotalBaselineOverBlueprint}×** |`,
    `| Region: Route 53 declares it unhealthy (interval × failure threshold) | ${readValue(bp.regionDetect, 'health check')} | ${readValue(bl.regionDetect, 'health check')} | ${ratio(bp.regionDetect, bl.regionDetect)} |`,
    `| **Time to move a region's users** (+ ${bp.aliasTtlSeconds} s alias TTL) | **${readValue(bp.regionTotal, 'health check')}** | **${readValue(bl.regionTotal, 'health check')}** | **${section.regionTotalBaselineOverBlueprint}×** |`,
    ...(bp.edgeTotal
      ? [
          `| **Time to move a region's users at the edge** (check + alarm evaluation + ${bp.edgeWriteSeconds} s write + ${bp.kvsPropagationSeconds} s KeyValueStore propagation; no TTL) | **${readValue(bp.edgeTotal, 'health check')}** | ${bl.edgeTotal ? readValue(bl.edgeTotal, 'health check') : 'no edge routing'} | |`,
        ]
      : []),
    `| **Is a zero-length 200 detected at all?** | ${zeroLengthCell(bp)} | ${zeroLengthCell(bl)} | |`,
    '',
    '- **Time to eject a target**: when one task goes bad, this is how long the load balancer can keep giving it new requests (checks every _interval_, gives up after _threshold_ failures), plus how long requests already on it may still run before it is cut loose.',
    "- **Time to move a region's users**: when a whole region goes bad, this is how long until Route 53 stops answering with it (checks every _interval_, gives up after _threshold_ failures), plus the 60 s resolvers may keep the old answer (the TTL of an alias to a load balancer).",
    ...(bp.edgeTotal
      ? [
          `- **Time to move a region's users at the edge**: the site's \`/api/*\` routing stops choosing a region once its health-check alarm (one more evaluation period) has reached the KeyValueStore through EventBridge and the edge-health function, and the write has reached every edge location. The ${bp.edgeWriteSeconds} s write and ${bp.kvsPropagationSeconds} s propagation are allowances, not template values: AWS states no KeyValueStore propagation figure. Nothing caches the old answer afterwards.`,
        ]
      : []),
    '- **Zero-length 200**: a task that answers `200 OK` with an empty body looks healthy to any check that only reads the status code, so users keep getting empty pages. The blueprint catches it twice: the service fails its own readiness (`/health/ready`) once it has served empty bodies, so the ALB ejects it; and Route 53 looks for `"status":"ready"` in the body.',
    '',
    'What was read:',
    '',
    ...bp.zeroLength.evidence.map((line) => `- blueprint: ${line}`),
    ...bl.zeroLength.evidence.map((line) => `- baseline: ${line}`),
    '',
    '**What would make it better:** shorter intervals and lower thresholds detect sooner but eject tasks on a single slow answer; the blueprint already uses the ALB minimum of 5 s and Route 53 fast (10 s) checks. The rest is the drain: a shorter deregistration delay cuts the total, as long as no request takes longer than it. The 60 s alias TTL is set by AWS for alias records and cannot be lowered.',
  );
  return lines.join('\n');
}

function synth(section: Section<SynthSection>): string {
  const lines = ['## 2. Synth time', ''];
  if (missing(section)) return [...lines, missingText(section)].join('\n');
  const { blueprint, baseline } = section;
  lines.push(
    "How long `cdk synth` takes to turn the app into CloudFormation templates: you wait for it on every `cdk diff` and `cdk deploy`. Both apps were synthesized by the real CLI, in turn, in the same invocation; the ratio is the blueprint's run divided by the baseline's run of the same round.",
    '',
    '| app | stacks | resources | Lambda code assets bundled | wall time |',
    '| --- | --- | --- | --- | --- |',
    `| ${blueprint.name}${section.blueprintUncached ? ', templates unchanged since the previous synth (CloudFormation Validate report kept)' : ''} | ${blueprint.stacks} | ${blueprint.resources} | ${blueprint.bundledAssets ?? '-'} | ${figure(blueprint.wallSeconds)} |`,
    `| ${baseline.name} | ${baseline.stacks} | ${baseline.resources} | ${baseline.bundledAssets ?? '-'} | ${figure(baseline.wallSeconds)} |`,
    `| **blueprint ÷ baseline** (${section.blueprintUncached ? 'a repeated synth, as `cdk diff` then `cdk deploy`; ' : ''}goal: at most 1.5×) | | | | **${figure(section.blueprintOverBaseline)}** |`,
    ...(section.blueprintUncached && section.uncachedOverBaseline
      ? [
          `| ${section.blueprintUncached.name} | ${section.blueprintUncached.stacks} | ${section.blueprintUncached.resources} | ${section.blueprintUncached.bundledAssets ?? '-'} | ${figure(section.blueprintUncached.wallSeconds)} |`,
          `| **that ÷ baseline** (a synth after a template change; goal: at most 1.5×) | | | | **${figure(section.uncachedOverBaseline)}** |`,
        ]
      : []),
    '',
    `Commands: \`${blueprint.command}\`${section.blueprintUncached ? `, \`${section.blueprintUncached.command}\`` : ''} and \`${baseline.command}\`, ${SYNTH_ENVIRONMENT}.`,
    '',
  );
  lines.push('### How synth grows with regions', '');
  if (missing(section.growth)) {
    lines.push(missingText(section.growth));
  } else {
    const { points, sixOverOne } = section.growth;
    const [one, , six] = points;
    const perRegion =
      (six.wallSeconds.median - one.wallSeconds.median) / (six.regions - one.regions);
    const stacksPerRegion = (six.stacks - one.stacks) / (six.regions - one.regions);
    lines.push(
      'The same blueprint with 1, 3 and 6 regions (configs passed with `-c config=<tmp file>`), synthesized in turn.',
      '',
      '| regions | stacks | resources | wall time |',
      '| --- | --- | --- | --- |',
      ...points.map(
        (p) =>
          `| ${p.regions}: ${p.regionNames.join(', ')} | ${p.stacks} | ${p.resources} | ${figure(p.wallSeconds)} |`,
      ),
      `| **6 regions ÷ 1 region** | | | **${figure(sixOverOne)}** |`,
      '',
      `Each region adds ${stacksPerRegion} stack${stacksPerRegion === 1 ? '' : 's'} and about ${Math.round(perRegion * 10) / 10} s of synth on this machine (median of 6 regions minus median of 1, over 5 regions); the rest of the ${one.wallSeconds.median} s a 1-region synth takes is paid once.`,
    );
  }
  lines.push('', "### Where the blueprint's synth time goes", '');
  if (missing(section.phases)) {
    lines.push(missingText(section.phases));
  } else {
    const p = section.phases;
    lines.push(
      'The default blueprint built in-process in a fresh Node process, with and without bundling the Lambda functions, in turn (the CLI, the TypeScript loader and Node start-up are not included).',
      '',
      '| phase | wall time |',
      '| --- | --- |',
      `| building the construct tree, esbuild bundling of every function included | ${figure(p.constructWithBundling)} |`,
      `| the same with bundling skipped | ${figure(p.constructWithoutBundling)} |`,
      `| **bundling the Lambda functions** (difference per round) | **${figure(p.bundling)}** |`,
      `| \`app.synth()\`: cdk-nag's AwsSolutions rules and CloudFormation checks over every stack (CloudFormation Validate run in full, no report kept), cross-region references, writing templates | ${figure(p.synthesize)} |`,
    );
  }
  const largest = missing(section.phases)
    ? undefined
    : [
        { name: 'bundling the Lambda functions', seconds: section.phases.bundling.median },
        { name: '`app.synth()`', seconds: section.phases.synthesize.median },
        {
          name: 'building the construct tree itself',
          seconds: section.phases.constructWithoutBundling.median,
        },
      ].sort((x, y) => y.seconds - x.seconds)[0];
  lines.push(
    '',
    `**What would make it better:** the baseline has no Lambda functions, no cdk-nag and no cross-region references, and ${baseline.resources} resources against the blueprint's ${blueprint.resources}.${largest ? ` In the blueprint, ${largest.name} is the largest share (${largest.seconds} s, table above).` : ''} All functions share one bundle, built by one esbuild run per synth (and kept between synths while its inputs are unchanged), which every region reuses, so a region adds little. \`app.synth()\` resolves, checks (cdk-nag, CloudFormation rules) and writes every resource, so it grows with the resources each region adds. Its largest single cost is the CDK's own CloudFormation Validate check, which aws-cdk-lib 2.276 runs in every app, the baseline included: its WebAssembly engine takes 2-3 s to start in either app, then validates each of the blueprint's regional templates in about 0.5 s (a baseline template in 0.1-0.3 s), 4.5-5.5 s of the blueprint's synth in all (the CDK's performance counters, CDK_PERF_COUNTERS_FILE, and a CPU profile, on this machine under load). The blueprint keeps that report between synths while every template is byte-identical (lib/cloudformation-validate-cache.ts), so a synth that changes no template (\`cdk diff\` then \`cdk deploy\`) skips it; one that changes a template pays it in full (the row with the report not kept). Starting the engine in a worker thread while the construct tree is built would hide most of its start-up on a machine with a free core; after it, cdk-nag (about 1 s) and resolving tokens while writing the templates are the largest costs left. The app's TypeScript is compiled by swc (bin/typescript-hook.js) rather than tsx, which lexed every one of the ~960 aws-cdk-lib and cdk-nag files the app loads for ES module syntax, about 1.4 s of CPU per synth; the baseline still runs under \`npx tsx\`, as a stock app would.`,
  );
  return lines.join('\n');
}

/** "no failed requests" or what failed, over every run of a scenario. */
function failuresOf(scenario: ServiceScenario): string {
  const sum = (key: 'non2xx' | 'errors' | 'bodyMismatches') =>
    scenario.runs.reduce((n, run) => n + run[key], 0);
  const requests = scenario.runs.reduce((n, run) => n + run.requests, 0);
  if (scenario.expectedStatus !== undefined) {
    const other = sum('errors') ? `, **${sum('errors')} connection errors**` : '';
    return `${sum('non2xx')} of ${requests} requests answered ${scenario.expectedStatus} (expected)${other}`;
  }
  const bad = [
    sum('non2xx') ? `${sum('non2xx')} non-2xx` : '',
    sum('errors') ? `${sum('errors')} connection errors` : '',
    sum('bodyMismatches') ? `${sum('bodyMismatches')} wrong bodies` : '',
  ].filter(Boolean);
  return bad.length === 0
    ? `no failed requests out of ${requests}`
    : `**${bad.join(', ')}** out of ${requests} requests`;
}

function service(section: Section<ServiceResults>): string {
  const lines = ['## 3. Service', ''];
  if (missing(section)) return [...lines, missingText(section)].join('\n');
  const named = (name: string) => section.scenarios.find((s) => s.name === name);
  const hit = named('service-cache-hit');
  const dead = named('service-one-node-dead');
  const outage = named('service-dynamodb-outage');
  const c = section.comparisons;
  const versus = c.versusReference;
  const cpuColumn = section.scenarios.some((s) => s.serverCpuMicrosPerRequest);
  const kernelColumn = section.scenarios.some((s) => s.serverKernelPercent);
  lines.push(
    `The catalog service as the container runs it (the production bundle in its own process, with real memcached and dynalite on loopback), loaded by autocannon with ${section.connections} connections for ${section.durationSeconds} s per run; bare, fair-limit, framework-floor, hit and miss runs were taken in turn, round by round.${section.reference ? ' Every service scenario also ran against a reference build of the service (rows ending in `-reference`), in turn.' : ''} Payload: ${section.payloadBytes} bytes.`,
    '',
    `| scenario | throughput | mean latency | p99 latency |${cpuColumn ? ' server CPU per request |' : ''}${kernelColumn ? ' of it in the kernel |' : ''}`,
    `| --- | --- | --- | --- |${cpuColumn ? ' --- |' : ''}${kernelColumn ? ' --- |' : ''}`,
    ...section.scenarios.map(
      (s) =>
        `| ${s.name} | ${figure(s.requestsPerSecond)} | ${figure(s.meanMs)} | ${figure(s.p99Ms)} |` +
        (cpuColumn
          ? ` ${s.serverCpuMicrosPerRequest ? figure(s.serverCpuMicrosPerRequest) : 'n/a'} |`
          : '') +
        (kernelColumn ? ` ${s.serverKernelPercent ? figure(s.serverKernelPercent) : 'n/a'} |` : ''),
    ),
    '',
    ...section.scenarios.map((s) => `- \`${s.name}\`: ${s.what}; ${failuresOf(s)}.`),
    '',
    ...(c.cacheHitThroughputVsFairLimit && c.cacheHitP99MsMinusFairLimit
      ? [
          `- **Cache hit vs the fair limit**: the fair limit is \`node:http\` plus one memjs GET of the same entry on the same memcached node, nothing else: the most a cache hit can do on this machine. A cache hit with the production defaults (access log, metrics, response guard, rate limit, per-node timeout and breaker) reaches ${figure(c.cacheHitThroughputVsFairLimit)} of its throughput (the goal is at least 0.8×), and adds ${figure(c.cacheHitP99MsMinusFairLimit)} to its p99 (the goal is at most 1 ms).`,
        ]
      : []),
    ...(c.cacheHitServerCpuVsFairLimit
      ? [
          `- **Server CPU per request**: the CPU time the server process spent per completed request (all its threads, from /proc/<pid>/task/*/schedstat), read around each run. Throughput on this 2-core machine also depends on the load generator and memcached sharing the cores and on where the scheduler puts them; CPU per request does not. A cache hit costs the service ${figure(c.cacheHitServerCpuVsFairLimit)} the fair limit's CPU per request (per round; a throughput of 0.8× allows at most 1.25× with the server's core as the only limit).${
            c.cacheHitUserCpuVsFairLimit && c.cacheHitKernelCpuVsFairLimit
              ? ` Split by where it is spent (user and system time from /proc/<pid>/stat): ${figure(c.cacheHitUserCpuVsFairLimit)} the fair limit's CPU in user space (JavaScript and Node's own code) and ${figure(c.cacheHitKernelCpuVsFairLimit)} its CPU in the kernel (mostly socket system calls; the service sends the GETs of one event-loop turn to a node in one write, the fair limit one write per GET). The throughput ratio therefore moves from machine to machine with what a system call costs there: where system calls are dear (a paravirtualized VM), the service's fewer writes count for more than its extra JavaScript.`
              : ''
          }`,
        ]
      : []),
    ...(c.frameworkFloorThroughputVsFairLimit && c.cacheHitThroughputVsFrameworkFloor
      ? [
          `- **The framework floor**: the fair limit's GET inside a bare Fastify route (logger off, nothing else) reaches ${figure(c.frameworkFloorThroughputVsFairLimit)} of the fair limit: what Fastify alone costs, before any of the service's own work. A cache hit reaches ${figure(c.cacheHitThroughputVsFrameworkFloor)} of the floor; the rest of the gap is the service's own per-request work (request id, rate limit, parameter validation, fault and guard hooks, the breaker and deadline, request metrics).`,
        ]
      : []),
    `- **Cache hit vs bare Node \`http\`**: the bare server returns the same bytes and does nothing else, so it is the ceiling for any Node server on this machine. A cache hit reaches ${figure(c.cacheHitThroughputVsBareHttp)} of its throughput, and adds ${figure(c.cacheHitP99MsMinusBareHttp)} to its p99${c.fairLimitThroughputVsBareHttp ? `; the fair limit itself reaches ${figure(c.fairLimitThroughputVsBareHttp)} of it, which is what the memcached round trip costs` : ''}.`,
    `- **Cache hit vs cache miss**: a published case study reports API responses over 30 % faster after adding memcached. Here a cache hit takes ${figure(c.cacheHitFasterThanMissPercent)} less time than a miss (mean latency, per round), and serves ${figure(c.cacheHitThroughputVsMiss)} the throughput. This overstates what you would see in AWS: a miss here reads from dynalite (LevelDB in a Node process on the same 2 cores), which is much slower than DynamoDB.`,
    `- **One memcached node dead**: with 1 of 2 nodes killed, the requests whose keys lived on it are read from DynamoDB and the rest still hit; throughput is ${c.oneNodeDeadThroughputVsCacheHit}× the all-hit median${dead && hit ? ` (${dead.requestsPerSecond.median} against ${hit.requestsPerSecond.median} req/s)` : ''}, with ${dead ? failuresOf(dead) : 'no runs'}. These runs come after the others (a killed node cannot be brought back mid-run with its cache), so this ratio is of medians, not of runs in turn.`,
    ...(outage
      ? [
          `- **DynamoDB outage**: with dynalite stopped, a read the cache cannot answer gets a 503 \`dependency_unavailable\` with \`retry-after\`, at ${figure(outage.requestsPerSecond)} (p99 ${figure(outage.p99Ms)}): the AWS SDK's retries against a refused connection, within the call's deadline.`,
        ]
      : []),
    ...stealLines(section.scenarios.flatMap((s) => s.runs)),
    ...(versus
      ? [
          `- **Against the reference build** (this build's req/s ÷ the reference's, per round): ${Object.entries(
            versus,
          )
            .map(([name, ratio]) => `${name} ${figure(ratio)}`)
            .join('; ')}.`,
        ]
      : []),
    '',
    "**What would make it better:** a hit is bounded by the memcached round trip the fair limit also pays, plus the framework and the per-request work the fair limit skips (routing, validation, rate limiting, the hooks). Metrics are aggregated in the process and written as EMF once per flush interval; log lines are written in 4 KiB batches, and plain successes get one access line in 100 (the load balancer's access log has every request); a request's child logger is built only when it writes a line. Each memcached node's breaker is a small state machine that allocates nothing per call (cockatiel's wrapped every call in two async functions), told the outcome by the call's deadline; a key is placed on the ring once per lookup; the GETs a turn of the event loop issues to a node leave in one write, where each had been a system call of its own (with the loopback or network stack's work behind it), and a response read whole is parsed without a copy; a cached body is parsed once per version, not on every hit (the response guard still parses one that did not parse). What is left is spread thin: each of the service's hooks, the rate limiter, the self-ejection window, the lookup's promise and the deadline's timer costs well under a microsecond, so only a leaner framework, or fewer per-request features, would close the rest: builds with features taken out, run side by side, put all the service's hooks together (load shedding, rate limit, faults, the response guard, metrics, the self-ejection window and the access log) at about 3 µs of user CPU per hit. Where the service stands against the fair limit also depends on the machine: it spends more user CPU than the fair limit and less in the kernel (the server CPU split above), so on a machine where system calls are dear it comes closer to the fair limit, or passes it, and on one where they are cheap it falls further behind. A miss is bounded by the database read: DynamoDB in AWS is far faster than dynalite here, and repeated reads turn misses into hits. With a node dead, more and smaller nodes mean a smaller share of keys falls through to the database.",
  );
  return lines.join('\n');
}

/** The CPU steal the service runs saw, where the machine reports it. */
export function stealLines(runs: readonly ServiceRun[]): string[] {
  const steal = runs.flatMap((run) =>
    run.cpuStealPercent === undefined ? [] : [run.cpuStealPercent],
  );
  if (steal.length === 0) return [];
  const summary = summarize(steal, '%');
  return [
    `- **CPU steal during these runs** (time the hypervisor gave this machine's virtual CPUs to other guests): ${figure(summary)} of the machine's CPU time. ${summary.max >= 10 ? 'Where it is high, every server here got less CPU than the load average shows, so absolute req/s are lower and noisier than on a dedicated machine; ratios of runs taken in turn still compare like with like, as far as the steal fell on both sides.' : 'It was low, so the absolute figures are what this machine can do.'}`,
  ];
}

function lambda(section: Section<LambdaResults>): string {
  const lines = ['## 4. Lambda functions', ''];
  if (missing(section)) return [...lines, missingText(section)].join('\n');
  if (section.budgetKiB === undefined) {
    // bench/results.json from before the shared bundle: its figures are not comparable.
    return [...lines, 'These results predate the shared bundle; run `npm run bench` again.'].join(
      '\n',
    );
  }
  const share = (part: number, whole: number) => `${Math.round((part / whole) * 100)} %`;
  // The guarded chaos functions: the ones with Powertools idempotency and its JMESPath.
  const guarded = section.functions.filter((f) => f.composition.powertoolsKiB > 50);
  const total = guarded.reduce((n, f) => n + f.loadedKiB, 0);
  const powertools = guarded.reduce((n, f) => n + f.composition.powertoolsKiB, 0);
  const sdkKiB = section.functions.map((f) => f.composition.awsSdkKiB).filter((k) => k > 0);
  const over = section.functions.filter((f) => !f.underBudget || !f.underGoal).map((f) => f.name);
  const within = (ok: boolean) => (ok ? 'within' : '**over**');
  lines.push(
    `Every function deploys one shared asset, built by ${section.bundles} esbuild run per synth (esbuild ${section.esbuild}: node22, ES modules, one self-contained file per function, minified, the AWS SDK bundled): ${section.assets} asset of ${section.assetKiB} KiB for ${section.functions.length} functions, where each function had its own bundle before. A function loads its own file (and any chunk it imports, where the asset has chunks); that is its size below, against the ${section.budgetKiB} KiB budget. Its cold module initialisation is \`import()\` of its file in a fresh Node process, ${section.runs} times, against the ${section.goalMs} ms goal. Beside it, timed in turn, the alternative the SDK choice rejected: a bundle per function with the AWS SDK left to the Lambda runtime's copy (resolved from \`NODE_PATH\`, as Lambda resolves \`/var/runtime/node_modules\`).`,
    '',
    `| function | JS loaded at start (budget ${section.budgetKiB} KiB) | of which AWS SDK / Powertools / our code | cold module init (goal ${section.goalMs} ms) | whole process | runtime-SDK alternative: bundle, init |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...section.functions.map(
      (f) =>
        `| ${f.name} | ${f.loadedKiB} KiB, ${within(f.underBudget)} | ${f.composition.awsSdkKiB} / ${Math.round((f.composition.powertoolsKiB + f.composition.xrayKiB) * 10) / 10} / ${f.composition.ownCodeKiB} KiB | ${figure(f.initMs)}, ${within(f.underGoal)} | ${figure(f.processMs)} | ${f.runtimeSdk.bundleKiB} KiB, ${figure(f.runtimeSdk.initMs)} |`,
    ),
    '',
    '"Whole process" includes starting Node itself. Composition comes from esbuild\'s metafile (bytes each input contributes to the minified output). The alternative\'s init includes loading the SDK packages it requires, as a cold start in Lambda would.',
    '',
    `**What is done:** no function loads an AWS SDK client. Each makes its few kinds of AWS call as signed requests of its own (\`lambda/shared/signed-http.ts\` with the SDK's SigV4 signer, SigV4A for the KeyValueStore; small typed clients for the JSON protocol, \`aws-json-api.ts\`: ECS, SSM, CloudWatch, DynamoDB, and the query protocol, \`aws-query-api.ts\`: ELBv2, ElastiCache), with a timeout on every request, capped backoff with full jitter, and a write whose answer is lost UNKNOWN unless its condition makes asking again the same question. An SDK client carries every operation's schema and error class of its service, registered when it loads so no bundler can drop them, on top of the SDK's runtime. What a function still loads from the SDK is the signer and, where it reads or writes items, \`@aws-sdk/util-dynamodb\`: ${sdkKiB.length > 0 ? `${Math.min(...sdkKiB)}-${Math.max(...sdkKiB)} KiB` : 'nothing'}. Each function loads only what it calls (one module per client in \`lambda/shared/clients/\`: esbuild splits the shared bundle by module), and the bundle replaces the SDK's default credential chain with the environment credentials Lambda always sets. ${guarded.length > 0 ? `Of what the guarded chaos functions load, ${share(powertools, total)} is Powertools (Logger, Metrics, Idempotency with its JMESPath); their idempotency records go through \`lambda/shared/idempotency-store.ts\`, a persistence layer over the signed DynamoDB client that writes the items Powertools' own DynamoDB layer writes.` : ''} ${over.length === 0 ? `Every function is within both the ${section.budgetKiB} KiB budget and the ${section.goalMs} ms goal.` : `Over the budget or the goal: ${over.join(', ')}.`} Taking the SDK from the runtime instead, as the last column shows, loads the runtime's CommonJS packages several times slower than the bundle, and would run an SDK version the code was not tested with.`,
  );
  return lines.join('\n');
}

/** The bad-deploy bullet: what it does, and how often the gate refused and users saw empty bodies. */
function badDeployLine(s: GamedayResults['scenarios'][number] | undefined): string[] {
  if (!s) return [];
  const refusals =
    s.gateRefusals === null || s.gateRefusals === undefined
      ? ''
      : ` The gate refused it in ${s.gateRefusals} of ${s.runs.length} runs;`;
  const empty =
    s.zeroLengthDelivered === null || s.zeroLengthDelivered === undefined
      ? ''
      : ` users got ${s.zeroLengthDelivered} empty bodies in all.`;
  return [
    `- **bad-deploy**: a new revision whose API answers \`200\` with empty bodies is deployed under load; the deploy gate (the ECS lifecycle hook's logic) checks it before HAProxy gets it, refuses it and it is rolled back: detection is the refusal, recovery the rollback.${refusals}${empty}`,
  ];
}

function gameday(section: Section<GamedayResults>): string {
  const lines = ['## 5. Local game day', ''];
  if (missing(section)) return [...lines, missingText(section)].join('\n');
  const quick = section.scenarios.some((s) => s.runs.some((r) => r.quick));
  const scale = section.scenarios[0]?.runs[0]?.timeScale;
  lines.push(
    `\`${section.command}\` on this machine, each run in ${section.isolation}: service replicas, memcached, dynalite and HAProxy on loopback under steady load; a fault is injected and the run measures when the balancer stopped sending users to the bad part (time to detect) and when full healthy capacity was back (time to recover), against the budgets the scenario derives from the deployed health-check settings.${quick ? ` These were --quick runs: every duration, budgets included, scaled by ${scale}.` : ''}`,
    '',
    '| scenario | time to detect | detect budget | time to recover | recover budget | empty bodies delivered to users | runs within budget |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...section.scenarios.map(
      (s) =>
        `| ${s.scenario} | ${s.timeToDetect ? figure(s.timeToDetect) : '**never**'} | ${s.detectBudgetSeconds ?? '-'} s | ${s.timeToRecover ? figure(s.timeToRecover) : '**never**'} | ${s.recoverBudgetSeconds} s | ${s.zeroLengthDelivered ?? '-'} | ${s.passed} of ${s.runs.length} |`,
    ),
    '',
    ...section.scenarios.map((s) => `- ${s.scenario}: ${s.derivation}.`),
    '',
    '- **zero-length-responder**: one task starts answering `200` with empty bodies; detection is the service noticing its own empty responses, failing readiness, and the balancer ejecting it.',
    '- **task-loss**: one task dies; detection is the balancer marking it down, recovery is a replacement task passing its checks.',
    ...badDeployLine(section.scenarios.find((s) => s.scenario === 'bad-deploy')),
    '',
    `Reports (JSON and HTML): ${section.scenarios.flatMap((s) => s.runs.map((r) => `\`${r.report}\``)).join(', ')} (not committed; \`gameday-report/\` is ignored by git).`,
    '',
    '**What would make it better:** detection is bounded by the health-check interval × threshold and, for empty responses, by how many bad responses the self-ejection window needs; recovery by how fast a replacement starts and passes its healthy threshold. A faster-starting image and a lower healthy threshold shorten recovery.',
  );
  return lines.join('\n');
}

function devLoop(section: Section<DevLoopResults>): string {
  const lines = ['## 6. Developer loop', ''];
  if (missing(section)) return [...lines, missingText(section)].join('\n');
  const suite = section.testSuite;
  const tests = suite.tests
    ? `${suite.tests.passed} passed, ${suite.tests.failed} failed, ${suite.tests.skipped} skipped of ${suite.tests.total}`
    : 'counts not reported';
  const install = section.npmCi;
  lines.push(
    '| what | wall time |',
    '| --- | --- |',
    `| test suite: \`${suite.command}\` in ${suite.where} (${suite.scope}: ${tests}) | ${figure(suite.wallSeconds)} |`,
    install
      ? `| install: \`${install.command}\`, timing \`npm ci\` only (${install.packages} packages, ${install.nodeModulesMiB} MiB of node_modules) | ${figure(install.wallSeconds)} |`
      : '| install: `npm ci` on a clean clone | not measured in this run |',
    '',
    ...section.notes.map((note) => `- ${note}`),
    '- **Test suite**: how long a contributor waits for `npx jest` before pushing. It synthesizes multi-region apps, starts real memcached and dynalite, and drives the static site in Chromium, two test files at a time.',
    "- **npm ci**: how long a fresh clone takes to install its dependencies, with the machine's npm cache as it was (a first install on a new machine also downloads every package).",
    '',
  );
  if (suite.slowestFiles.length > 0) {
    lines.push(
      "Slowest test files (jest's time per file; two run at once, so they overlap):",
      '',
      ...suite.slowestFiles.map((f) => `- \`${f.file}\`: ${f.seconds} s`),
      '',
    );
  }
  lines.push(
    '**What would make it better:** the suite is bound by its slowest files and by 2 workers on 2 cores; splitting the slowest files (or sharing one synthesized app per file) lets the workers finish together, and more cores help directly. With the npm cache warm, `npm ci` is mostly unpacking every package into node_modules; fewer and smaller dependencies shorten it.',
  );
  return lines.join('\n');
}

export function renderBenchmarks(results: BenchResults): string {
  const m = results.machine;
  const date = results.startedAt.slice(0, 10);
  return [
    '# Benchmarks',
    '',
    `<!-- Generated by \`npm run bench\` from bench/results.json; re-draw with \`npm run bench -- --render\`. Do not edit by hand. -->`,
    '',
    'What users of this blueprint care about, measured in one run on one machine and side by side with the alternative: a stock CDK app of the same three regions (`bench/baseline/`). Per region it has an `ApplicationLoadBalancedFargateService` from `aws-cdk-lib/aws-ecs-patterns` at its defaults (its own VPC, which the pattern spreads over two AZs; HTTPS only so that a Route 53 HTTPS check has a listener to reach), a Route 53 `HTTPS` health check at its defaults, and a latency-routed alias record guarded by that check.',
    '',
    `- **Run:** \`npm run bench${results.mode === 'quick' ? ' -- --quick' : ''}\` (${results.mode} mode) on ${date}, ${results.totalSeconds} s in all.`,
    `- **Machine:** ${m.nproc} × ${m.cpuModel} (nproc ${m.nproc}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; commit ${m.gitCommit}.`,
    `- **Load average** (1, 5, 15 min) at start ${m.loadAverageAtStart.join(', ')}, at end ${m.loadAverageAtEnd.join(', ')}: ${Math.max(m.loadAverageAtStart[0], m.loadAverageAtEnd[0]) > m.nproc ? `above ${m.nproc}, so other work was competing for the CPU and every timing is slower and noisier than on a quiet machine` : `at most ${m.nproc}, so nothing else was competing for the CPU at either end of the run`}.`,
    ...(m.cpuStealPercent === undefined
      ? []
      : [
          `- **CPU steal** over the whole run: ${m.cpuStealPercent} % of the machine's CPU time went to other guests of the hypervisor${m.cpuStealPercent >= 5 ? ', which the load average does not show: timings are slower and noisier than on a dedicated machine' : ''}.`,
        ]),
    ...(m.note ? [`- **Note:** ${m.note}`] : []),
    '',
    'Every figure is the **median**, with min, max and the number of runs. A comparison is a ratio of runs taken **in turn** in the same invocation (round 1 of A against round 1 of B, and so on), so that a busy moment on the machine falls on both sides; its median, min and max are over those per-round ratios.',
    '',
    detection(results.detection),
    '',
    synth(results.synth),
    '',
    service(results.service),
    '',
    lambda(results.lambda),
    '',
    gameday(results.gameday),
    '',
    devLoop(results.devLoop),
    '',
  ].join('\n');
}
