import { connect as tcpConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

/**
 * kafkajs's own socket factory (`kafkajs/src/network/socketFactory.js`: TCP or TLS, keep-alive
 * after 60 s), with Nagle's algorithm off. kafkajs leaves it on, and its connections carry small
 * requests one after another (a produce, a fetch behind a long poll, an offset commit, a
 * heartbeat): a request written while an earlier one's bytes are not yet acknowledged waits for
 * that acknowledgement, which the other side may delay. The broker sets TCP_NODELAY on its side;
 * this is the client's half. Measured in docs/performance.md (each hop between contexts).
 */
export const kafkaSocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
    : tcpConnect({ host, port }, onConnect);
  socket.setKeepAlive(true, 60_000);
  socket.setNoDelay(true);
  return socket;
};
