/**
 * undici's TLS connector with the endpoint's `tls` options, keeping the reason of a refused
 * handshake. Under TLS 1.3 a server checks the client certificate after the client considers
 * the handshake done: its alert (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED) comes as a socket
 * error just before the close, and undici then reports only "other side closed". The first
 * TLS error of a connection is attached as the `cause` of the later socket errors, so
 * network-errors.ts can name it. One listener per connection; nothing per request.
 */
import type { ConnectionOptions } from 'node:tls';
import type { buildConnector } from 'undici';
import { lazyModule } from '../../runtime/lazy.ts';
import { tlsFailureReason } from './handshake-errors.ts';

const undici = lazyModule<typeof import('undici')>('undici');

export function tlsConnector(options: ConnectionOptions): buildConnector.connector {
  const connect = undici.buildConnector(options);
  return (opts, callback) =>
    connect(opts, (...args) => {
      const socket = args[1];
      if (socket) {
        let tlsError: Error | undefined;
        // Registered before undici's own listeners, so it runs first on every error.
        socket.on('error', (err: Error & { code?: string }) => {
          if (tlsError === undefined && tlsFailureReason(err.code, undefined) !== undefined) tlsError = err;
          else if (tlsError !== undefined && err !== tlsError && err.cause === undefined) err.cause = tlsError;
        });
      }
      callback(...args);
    });
}
