import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';

/** The material of one process for mutual TLS: the CA it trusts, its certificate and key. */
export interface GrpcTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** `<dir>/ca.crt` and `<dir>/<target>.crt|.key`, as `npm run certs` writes them. */
export function loadGrpcTls(dir: string, target: string): GrpcTls {
  const read = (file: string) => {
    try {
      return readFileSync(join(dir, file));
    } catch {
      throw new Error(`mutual TLS: ${join(dir, file)} is missing — run \`npm run certs\` (or point FICUS_GRPC_TLS_DIR at the certificates)`);
    }
  };
  return { ca: read('ca.crt'), cert: read(`${target}.crt`), key: read(`${target}.key`) };
}

/** A server that requires a client certificate signed by the CA, and checks it. */
export function serverCredentialsOf(tls: GrpcTls): ServerCredentials {
  return ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

/** A client that presents its certificate and accepts only servers the CA signed for the address. */
export function channelCredentialsOf(tls: GrpcTls): ChannelCredentials {
  return credentials.createSsl(tls.ca, tls.key, tls.cert);
}

const SPIFFE_TARGET = /URI:spiffe:\/\/ficus\.local\/target\/([a-z][a-z0-9-]*)(?:,|$)/;

/** The deploy target a verified peer certificate speaks for (its SPIFFE ID), if any. */
export function targetOfPeer(subjectAltName: string | undefined): string | undefined {
  return subjectAltName ? SPIFFE_TARGET.exec(subjectAltName)?.[1] : undefined;
}
