'use strict';
// The container health check (the task definition runs `node /app/healthcheck.js`): healthy only
// on a 200 from /health/ready whose first 5,120 bytes hold HEALTH_TOKEN. Exits 0 or 1.
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const token = process.env.HEALTH_TOKEN || '"status":"ready"';

const req = http.get({ host: '127.0.0.1', port, path: '/health/ready', timeout: 4000 }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (chunk) => {
    if (body.length < 5120) body += chunk;
  });
  res.on('end', () =>
    process.exit(res.statusCode === 200 && body.slice(0, 5120).includes(token) ? 0 : 1),
  );
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', () => process.exit(1));
