/**
 * The gateway's HTTP server with its own limits (config `server`): a headers timeout (also
 * closes a connection that sends nothing), a whole-request timeout (a slow body), a keep-alive
 * idle timeout and a connection cap. Node's defaults (300 s per request, no cap) let a
 * slowloris hold a socket for five minutes and open as many as it likes.
 * @module
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Config } from '../config/schema.ts';

/**
 * @example
 * const server = createGatewayServer(gateway.listener, config.server);
 * server.listen(8080, '127.0.0.1');
 */
export function createGatewayServer(listener: RequestListener, limits: Config['server']): Server {
  const server = createServer(
    {
      headersTimeout: limits.headers_timeout_ms,
      requestTimeout: limits.request_timeout_ms,
      keepAliveTimeout: limits.keep_alive_timeout_ms,
      // Node checks both timeouts on this interval (30 s by default), so a 10 s limit would
      // otherwise hold for up to 40 s.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headers_timeout_ms / 4))),
    },
    listener,
  );
  server.maxConnections = limits.max_connections;
  return server;
}
