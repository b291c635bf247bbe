/**
 * The container HEALTHCHECK: healthy only when /health/ready answers 200 with a body that contains
 * the health token. An empty 200 (the failure this service exists to catch) is unhealthy.
 * Run as `node healthcheck.js`; reads PORT and HEALTH_TOKEN like the service. Exit 0 or 1.
 */
import { request } from 'node:http';

import { DEFAULT_HEALTH_TOKEN } from './config';

export function checkReady(
  port: number,
  token: string,
  timeoutMs: number,
): Promise<{ healthy: boolean; reason: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/health/ready', timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            resolve({ healthy: false, reason: `status ${res.statusCode}: ${body.slice(0, 300)}` });
          } else if (!body.includes(token)) {
            resolve({
              healthy: false,
              reason: `200 without the health token (${body.length} bytes)`,
            });
          } else {
            resolve({ healthy: true, reason: 'ready' });
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

if (require.main === module) {
  const port = Number(process.env.PORT || 8080);
  const token = process.env.HEALTH_TOKEN || DEFAULT_HEALTH_TOKEN;
  void checkReady(port, token, 3000).then(({ healthy, reason }) => {
    process.stdout.write(`${healthy ? 'healthy' : 'unhealthy'}: ${reason}\n`);
    process.exit(healthy ? 0 : 1);
  });
}
