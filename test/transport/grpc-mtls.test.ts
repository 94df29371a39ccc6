import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { credentials } from '@grpc/grpc-js';
import { CatalogContract } from '@contracts/catalog';
import { InventoryContract } from '@contracts/inventory';
import { ContractError, type CallContext } from '@contracts/kernel';
import { issueLocalCertificates } from '@infra/deploy/certs/local-ca';
import { InProcessContractTransport } from '@infra/messaging';
import {
  channelCredentialsOf,
  GrpcContractServer,
  GrpcContractTransport,
  loadGrpcTls,
  type GrpcTls,
} from '@infra/messaging/grpc';

const ctx = (): CallContext => ({ correlationId: 'mtls-test', deadline: Date.now() + 3_000 });
const product = { sku: 'FICUS-LYRATA', name: 'Fiddle-leaf fig', price: { amountMinor: 3900, currency: 'EUR' } };

/**
 * gRPC between ficus processes under mutual TLS: the server takes only callers with a certificate
 * from the local CA, and of those only the targets the topology allows (here: the gateway).
 */
describe('gRPC with mutual TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ficus-mtls-'));
  const strangerDir = mkdtempSync(join(tmpdir(), 'ficus-mtls-stranger-'));
  let server: GrpcContractServer;
  let address: string;
  const clients: GrpcContractTransport[] = [];
  const client = (options: ConstructorParameters<typeof GrpcContractTransport>[0]) => {
    const made = new GrpcContractTransport(options);
    clients.push(made);
    return made;
  };
  const call = (transport: GrpcContractTransport) =>
    transport.unary(CatalogContract, 'getProduct', ctx(), { sku: product.sku });

  beforeAll(async () => {
    await issueLocalCertificates(dir, ['catalog', 'gateway', 'shipping']);
    // A certificate of our CA for "mimic", with a DNS name that reads like gateway's SPIFFE ID in text.
    await issueLocalCertificates(dir, ['mimic'], ['127.0.0.1', 'x, URI:spiffe://ficus.local/target/gateway']);
    await issueLocalCertificates(strangerDir, ['gateway']); // same names, another CA
    const local = new InProcessContractTransport();
    local.serve(CatalogContract, {
      listProducts: async () => ({ items: [product], page: 1, pageSize: 1, total: 1 }),
      getProducts: async () => ({ products: [product], missingSkus: [] }),
      getProduct: async () => product,
    });
    server = new GrpcContractServer(local, {
      host: '127.0.0.1',
      port: 0,
      tls: loadGrpcTls(dir, 'catalog'),
      authorize: (caller) => caller === 'gateway',
      vouch: (caller, service) => caller === 'gateway' && service === 'ordering',
    });
    // Inventory's WatchStock, a server stream: refusals must reach a streaming caller too.
    local.serve(
      InventoryContract,
      new Proxy({} as Record<string, unknown>, {
        get: (_target, method) =>
          method === 'watchStock'
            ? async function* () {
                yield { sku: product.sku, available: 1, reserved: 0 };
              }
            : async () => {
                throw new Error(`${String(method)} is not used here`);
              },
      }) as never,
    );
    server.expose(CatalogContract);
    server.expose(InventoryContract);
    address = `127.0.0.1:${await server.listen()}`;
  });
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await server.close(0);
    rmSync(dir, { recursive: true, force: true });
    rmSync(strangerDir, { recursive: true, force: true });
  });

  it('answers an allowed target that presents its certificate', async () => {
    const gateway = client({ address, credentials: channelCredentialsOf(loadGrpcTls(dir, 'gateway')) });
    await expect(call(gateway)).resolves.toEqual(product);
  });

  it('reads the caller’s certificate once a call, for the allow-list and the service it claims alike', async () => {
    const gateway = client({ address, credentials: channelCredentialsOf(loadGrpcTls(dir, 'gateway')) });
    const claiming = () =>
      gateway.unary(CatalogContract, 'getProduct', { ...ctx(), service: 'ordering' }, { sku: product.sku });
    await expect(claiming()).resolves.toEqual(product); // the connection is up: no handshake below
    // Node builds the whole certificate object (fingerprints and all) at every read: about 30 µs
    // a read on the development machine, twice a call before.
    const reads = jest.spyOn(TLSSocket.prototype, 'getPeerCertificate');
    try {
      await expect(claiming()).resolves.toEqual(product);
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      reads.mockRestore();
    }
  });

  it('a caller that expects another target than the one that answers refuses the server', async () => {
    const tls = loadGrpcTls(dir, 'gateway');
    const expectingCatalog = client({ address, credentials: channelCredentialsOf(tls, 'catalog') });
    await expect(call(expectingCatalog)).resolves.toEqual(product);
    const expectingPayments = client({ address, credentials: channelCredentialsOf(tls, 'payments') }); // catalog answers at this address
    await expect(call(expectingPayments)).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('refuses a target the allow-list does not name, with permission-denied', async () => {
    const shipping = client({ address, credentials: channelCredentialsOf(loadGrpcTls(dir, 'shipping')) });
    const error = await call(shipping).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContractError);
    expect(error).toMatchObject({ kind: 'permission-denied', code: 'caller-not-allowed' });
  });

  it('reads the caller from the URI names of its certificate, not from their text: a look-alike DNS name is refused', async () => {
    const mimic = client({ address, credentials: channelCredentialsOf(loadGrpcTls(dir, 'mimic')) });
    await expect(call(mimic)).rejects.toMatchObject({ kind: 'permission-denied' });
  });

  it('refuses a streaming call from a target not on the list with permission-denied, at once', async () => {
    const shipping = client({ address, credentials: channelCredentialsOf(loadGrpcTls(dir, 'shipping')) });
    const stream = shipping.serverStream(
      InventoryContract,
      'watchStock',
      { correlationId: 'mtls-stream', deadline: Date.now() + 60_000 },
      { skus: [product.sku] },
    );
    const error = await (async () => {
      for await (const _level of stream) return 'an item came through';
      return 'the stream ended without a status';
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'permission-denied', code: 'caller-not-allowed' });
  });

  it('names no server (SNI) when it calls an address, as RFC 6066 asks (Node warns of one: DEP0123)', async () => {
    // A listener with catalog's certificate that records the server name each handshake asked for.
    const tlsOfCatalog = loadGrpcTls(dir, 'catalog');
    const asked: Array<string | false | null> = [];
    const listener = createTlsServer({
      key: tlsOfCatalog.key,
      cert: tlsOfCatalog.cert,
      ca: tlsOfCatalog.ca,
      ALPNProtocols: ['h2'],
    });
    listener.on('secureConnection', (socket) => {
      asked.push(socket.servername);
      socket.destroy();
    });
    await new Promise<void>((resolveListen) => listener.listen(0, '127.0.0.1', resolveListen));
    try {
      const { port } = listener.address() as AddressInfo;
      const gateway = client({
        address: `127.0.0.1:${port}`,
        credentials: channelCredentialsOf(loadGrpcTls(dir, 'gateway')),
      });
      await call(gateway).catch(() => undefined); // the listener speaks no gRPC: the handshake is what counts
      expect(asked.length).toBeGreaterThan(0);
      expect(asked.filter((name) => typeof name === 'string')).toEqual([]);
    } finally {
      await new Promise((resolveClose) => listener.close(resolveClose));
    }
  });

  it('still checks the server’s certificate against the address it calls', async () => {
    const namesOnly = mkdtempSync(join(tmpdir(), 'ficus-mtls-names-only-'));
    await issueLocalCertificates(namesOnly, ['catalog', 'gateway'], ['localhost']); // no 127.0.0.1 in them
    const local = new InProcessContractTransport();
    local.serve(CatalogContract, {
      listProducts: async () => ({ items: [product], page: 1, pageSize: 1, total: 1 }),
      getProducts: async () => ({ products: [product], missingSkus: [] }),
      getProduct: async () => product,
    });
    const byName = new GrpcContractServer(local, {
      host: '127.0.0.1',
      port: 0,
      tls: loadGrpcTls(namesOnly, 'catalog'),
      authorize: (caller) => caller === 'gateway',
    });
    byName.expose(CatalogContract);
    try {
      const port = await byName.listen();
      const credentialsOfGateway = channelCredentialsOf(loadGrpcTls(namesOnly, 'gateway'));
      await expect(
        call(client({ address: `127.0.0.1:${port}`, credentials: credentialsOfGateway })),
      ).rejects.toMatchObject({ kind: 'unavailable' });
      await expect(call(client({ address: `localhost:${port}`, credentials: credentialsOfGateway }))).resolves.toEqual(
        product,
      );
    } finally {
      await byName.close(0);
      rmSync(namesOnly, { recursive: true, force: true });
    }
  });

  it('refuses a plaintext caller, a caller without a certificate, and one whose certificate another CA signed', async () => {
    const tls = loadGrpcTls(dir, 'gateway');
    const stranger: GrpcTls = { ...loadGrpcTls(strangerDir, 'gateway'), ca: tls.ca }; // trusts our CA, but is not trusted by it
    for (const credentialsOfCaller of [
      credentials.createInsecure(),
      credentials.createSsl(tls.ca),
      channelCredentialsOf(stranger),
    ]) {
      const error = await call(client({ address, credentials: credentialsOfCaller })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ContractError);
      expect((error as ContractError).kind).toBe('unavailable'); // the handshake fails: no call reaches the server
    }
  });
});
