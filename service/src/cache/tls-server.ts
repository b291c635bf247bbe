import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';

import { Server, type ServerOptions } from 'memjs';

/** The memjs 1.3.2 `Server` fields the socket setup touches (not in its type definitions). */
interface ServerInternals {
  _socket: Socket | undefined;
  responseBuffer: Buffer;
  connected: boolean;
  timeoutSet: boolean;
  connectCallbacks: Array<(socket: Socket) => void>;
  options: { conntimeout: number; keepAlive: boolean; keepAliveDelay: number };
  username: string | undefined;
  password: string | undefined;
  responseHandler(data: Buffer): void;
  listSasl(): void;
  error(error: Error): void;
}

/**
 * A memjs server connection, over TLS for ElastiCache in-transit encryption or plain TCP. memjs
 * opens its socket with `net.connect` inside `Server#sock` and offers no hook, so this subclass
 * replaces only the branch that creates a new socket: the same steps as memjs 1.3.2 (kept pinned),
 * with `tls.connect` when TLS is on, and one fix: the events of a socket memjs has already given
 * up on are ignored. memjs's own `close` handler clears whatever socket is current, so after a
 * reset a call made before the dead socket's `close` event lost its new connection and hung
 * until its timeout. An established socket is handled by memjs itself, except that requests
 * issued in the same turn of the event loop are written together ({@link GuardedServer.write}).
 */
export class GuardedServer extends Server {
  constructor(
    host: string,
    port: number,
    options: ServerOptions,
    private readonly tlsOptions: ConnectionOptions | undefined,
  ) {
    super(host, port, undefined, undefined, options);
  }

  /** The socket whose writes are held until this turn of the event loop has issued its calls. */
  private corked: Socket | undefined;

  /**
   * Sends one request. Requests issued in the same turn of the event loop go out in one write:
   * the first corks the connected socket and a `setImmediate` (after the turn's I/O callbacks,
   * each of which may issue a request) uncorks it. Under load one write then carries the GETs of
   * several HTTP requests, where each had cost a syscall, and the loopback or network stack's
   * work behind it, of its own. A request waits at most for the rest of the turn; memjs's
   * per-request timeout starts when it is issued, as before.
   */
  override write(blob: Uint8Array | string): void {
    const self = this as unknown as ServerInternals;
    const socket = self._socket;
    if (socket !== undefined && self.connected && this.corked !== socket) {
      this.corked = socket;
      socket.cork();
      setImmediate(() => {
        if (this.corked === socket) this.corked = undefined;
        // A socket destroyed meanwhile ignores this; its calls fail as memjs reports them.
        socket.uncork();
      });
    }
    super.write(blob);
  }

  /**
   * memjs copies what it holds of a response plus each chunk it reads into a new, zero-filled
   * buffer on every read. When it holds nothing (a read that ends where a response ends, as nearly
   * every read does), the chunk itself is what it parses; the responses it hands out are views of
   * it either way.
   */
  override appendToBuffer(chunk: Buffer): Buffer {
    if (this.responseBuffer.length > 0) return super.appendToBuffer(chunk);
    (this as unknown as ServerInternals).responseBuffer = chunk;
    return chunk;
  }

  override sock(sasl: boolean, go: (socket: Socket) => void): void {
    const self = this as unknown as ServerInternals & TlsServer;
    if (self._socket) {
      super.sock(sasl, go);
      return;
    }
    self.connected = false;
    const onConnect = () => {
      self.once('authenticated', () => {
        if (self._socket !== socket) return;
        self.connected = true;
        socket.setTimeout(0);
        self.timeoutSet = false;
        go(socket);
        for (const callback of self.connectCallbacks) callback(socket);
        self.connectCallbacks = [];
      });
      socket.on('data', (data: Buffer) => self.responseHandler(data));
      if (self.username && self.password) {
        self.listSasl();
      } else {
        self.emit('authenticated');
      }
    };
    const socket: Socket = this.tlsOptions
      ? connectTls(
          {
            host: this.host,
            port: this.port,
            servername: isIP(this.host) === 0 ? this.host : undefined,
            ...this.tlsOptions,
          },
          onConnect,
        )
      : connectTcp({ host: this.host, port: this.port }, onConnect);
    self._socket = socket;
    socket.on('error', (error: Error) => {
      if (self._socket === socket) self.error(error);
    });
    socket.on('close', () => {
      if (self._socket !== socket) return;
      self.connected = false;
      if (self.timeoutSet) {
        socket.setTimeout(0);
        self.timeoutSet = false;
      }
      self._socket = undefined;
    });
    self.timeoutSet = true;
    socket.setTimeout(self.options.conntimeout * 1000, () => {
      self.timeoutSet = false;
      if (!self.connected) {
        socket.end();
        self._socket = undefined;
        self.error(new Error('socket timed out connecting to server.'));
      }
    });
    socket.setKeepAlive(self.options.keepAlive, self.options.keepAliveDelay * 1000);
  }
}

/** A memjs server connection over TLS (see {@link GuardedServer}). */
export class TlsServer extends GuardedServer {
  constructor(
    host: string,
    port: number,
    options: ServerOptions,
    tlsOptions: ConnectionOptions = {},
  ) {
    super(host, port, options, tlsOptions);
  }
}
