import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 providers with tsyringe
import { readFileSync } from 'node:fs';
import { checkServerIdentity } from 'node:tls';
import { join } from 'node:path';
import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import * as x509 from '@peculiar/x509';

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
      throw new Error(
        `mutual TLS: ${join(dir, file)} is missing — run \`npm run certs\` (or point FICUS_GRPC_TLS_DIR at ` +
          `the certificates)`,
      );
    }
  };
  return { ca: read('ca.crt'), cert: read(`${target}.crt`), key: read(`${target}.key`) };
}

/** A server that requires a client certificate signed by the CA, and checks it. */
export function serverCredentialsOf(tls: GrpcTls): ServerCredentials {
  return ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

/**
 * A client that presents its certificate and accepts only a server the CA signed for the address
 * and, given `expectedTarget`, only the one whose certificate names that target: another
 * workload of the same CA on the same host cannot pose as it.
 */
export function channelCredentialsOf(tls: GrpcTls, expectedTarget?: string): ChannelCredentials {
  return credentials.createSsl(tls.ca, tls.key, tls.cert, {
    checkServerIdentity: (hostname, certificate) => {
      const hostError = checkServerIdentity(hostname, certificate);
      if (hostError) return hostError;
      const served = targetOfPeer(certificate);
      if (expectedTarget !== undefined && served !== expectedTarget) {
        return new Error(
          `mutual TLS: ${hostname} presented the certificate of ${served ?? 'no ficus target'}, not of ` +
            `${expectedTarget}`,
        );
      }
      return undefined;
    },
  });
}

const SPIFFE_TARGET = /^spiffe:\/\/ficus\.local\/target\/([a-z][a-z0-9-]*)$/;

/**
 * The deploy target a verified peer certificate speaks for: its one SPIFFE ID of our trust
 * domain, read from the certificate's URI names (parsed from DER, never from the text form, in
 * which a DNS name can imitate a URI). No such ID, or more than one, speaks for nobody.
 */
export function targetOfPeer(certificate: { raw?: Buffer } | undefined): string | undefined {
  if (!certificate?.raw) return undefined;
  // Every call over a connection presents the same certificate: parsing its DER each time cost a
  // serving process a tenth of its CPU under load. Keyed by the whole DER, so a certificate is
  // only ever matched by itself.
  const key = certificate.raw.toString('base64');
  if (peerTargets.has(key)) return peerTargets.get(key);
  const parsed = new x509.X509Certificate(new Uint8Array(certificate.raw));
  const names = parsed.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  const ids = names.filter((name) => name.type === 'url' && name.value.startsWith('spiffe://ficus.local/'));
  const target = ids.length === 1 ? SPIFFE_TARGET.exec(ids[0].value)?.[1] : undefined;
  if (peerTargets.size >= PEER_TARGETS_KEPT) peerTargets.clear(); // bounded: certificates rotate, peers come and go
  peerTargets.set(key, target);
  return target;
}

const PEER_TARGETS_KEPT = 1_000;
const peerTargets = new Map<string, string | undefined>();
