import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the fake AWS endpoints (ECS, ELBv2, ElastiCache) share: an HTTP server on a free port of
 * 127.0.0.1, late replies that a test can cut short, and a close that ends every connection and
 * timer so no test leaves a handle open. A subclass answers requests in `handle`.
 */
export abstract class LoopbackHttpFake {
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server?: Server;
  private url = '';

  /** `http://127.0.0.1:<port>`, as an SDK client's `endpoint` takes it. */
  get endpoint(): string {
    return this.url;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Answers one request; a rejection reaches `handlerFailed`. */
  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  /** What a request whose handler threw gets. @default - 500 with the error as text */
  protected handlerFailed(res: ServerResponse, error: unknown): void {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(error));
  }

  /** Starts listening on a free port of 127.0.0.1. */
  protected async listen(): Promise<void> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // A client that timed out has gone; writing the late reply to it must not crash the test.
      res.on('error', () => undefined);
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.handlerFailed(res, error);
      });
    });
  }

  /** Sends `body` as JSON with its length, as the AWS JSON protocols answer. */
  protected replyJson(
    res: ServerResponse,
    status: number,
    body: unknown,
    contentType: string,
  ): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  /** Sends a reply after `delayMs`, unless the client has gone or the fake was closed. */
  protected replyLater(res: ServerResponse, delayMs: number, send: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!res.destroyed) send();
    }, delayMs);
    this.timers.add(timer);
  }
}
