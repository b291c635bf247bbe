'use strict';
// The orders starter app: the smallest app that keeps the service contract (service/README.md),
// with Node's standard library only. Replace the /orders route with your own; keep the rest.
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const host = process.env.HOST || '0.0.0.0';
const token = process.env.HEALTH_TOKEN || '"status":"ready"';
const drainSeconds = Number(process.env.SHUTDOWN_DRAIN_SECONDS || 20);
let draining = false;

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const path = (req.url || '/').split('?')[0];
  if (path === '/health/live') return send(res, 200, { status: 'live' });
  if (path === '/health/ready') {
    // The token must be literally in the body: the ALB checks only the status code, Route 53
    // and the container health check search the body. JSON.stringify leaves a valid token as is,
    // and the default token is the body's own first field.
    if (draining) return send(res, 503, { status: 'draining' });
    return send(res, 200, { status: 'ready', token });
  }
  if (req.method === 'GET' && (path === '/orders' || path === '/orders/')) {
    return send(res, 200, { orders: [] });
  }
  return send(res, 404, { error: 'NotFound', message: `no route for ${req.method} ${path}` });
});

// SIGTERM: fail readiness, stop accepting, let requests finish within the drain time, exit.
process.on('SIGTERM', () => {
  draining = true;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), drainSeconds * 1000).unref();
});

server.listen(port, host, () => {
  console.log(JSON.stringify({ level: 'info', msg: 'listening', port: server.address().port }));
});
