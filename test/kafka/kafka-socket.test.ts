import { once } from 'node:events';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { kafkaSocketFactory } from '@infra/messaging/kafka';

/** The shop's Kafka connections: kafkajs's own socket, with Nagle's algorithm off (docs/performance.md). */
describe('kafkaSocketFactory', () => {
  it("connects as kafkajs's factory does, with Nagle's algorithm off and keep-alive after 60 s", async () => {
    const server = createServer((peer) => peer.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const noDelay = jest.spyOn(Socket.prototype, 'setNoDelay');
    const keepAlive = jest.spyOn(Socket.prototype, 'setKeepAlive');
    try {
      const connected = new Promise<void>((resolve) => {
        const socket = kafkaSocketFactory({
          host: '127.0.0.1',
          port: (server.address() as AddressInfo).port,
          ssl: undefined as never, // kafkajs passes its `ssl` setting, absent without TLS
          onConnect: () => {
            socket.destroy();
            resolve();
          },
        });
        expect(noDelay.mock.contexts).toContain(socket);
        expect(noDelay).toHaveBeenCalledWith(true);
        expect(keepAlive).toHaveBeenCalledWith(true, 60_000);
      });
      await connected;
    } finally {
      noDelay.mockRestore();
      keepAlive.mockRestore();
      server.close();
    }
  });
});
