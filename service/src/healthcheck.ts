/**
 * The container HEALTHCHECK, a liveness check: healthy when the process answers /health/live with
 * its own `{"status":"live"}` within the timeout. It never looks at dependencies or readiness: a
 * DynamoDB or cache outage must make the load balancer stop sending traffic (readiness), not make
 * ECS replace every task in the region. Run as `node healthcheck.js`; reads PORT like the service.
 * Exit 0 or 1.
 */
import { request } from 'node:http';

export function checkLive(
  port: number,
  timeoutMs: number,
): Promise<{ healthy: boolean; reason: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/health/live', timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            resolve({ healthy: false, reason: `status ${res.statusCode}: ${body.slice(0, 300)}` });
          } else if (!isLiveBody(body)) {
            resolve({
              healthy: false,
              reason: `200 without {"status":"live"} (${body.length} bytes)`,
            });
          } else {
            resolve({ healthy: true, reason: 'live' });
          }
        });
        res.on('error', (error) => resolve({ healthy: false, reason: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    req.on('error', (error) => resolve({ healthy: false, reason: error.message }));
    req.end();
  });
}

function isLiveBody(body: string): boolean {
  try {
    return (JSON.parse(body) as { status?: unknown }).status === 'live';
  } catch {
    return false;
  }
}

if (require.main === module) {
  const port = Number(process.env.PORT || 8080);
  void checkLive(port, 3000).then(({ healthy, reason }) => {
    process.stdout.write(`${healthy ? 'healthy' : 'unhealthy'}: ${reason}\n`);
    process.exit(healthy ? 0 : 1);
  });
}
