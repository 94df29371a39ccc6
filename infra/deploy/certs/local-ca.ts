import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 providers with tsyringe
import { webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set('default', webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

/** The SPIFFE trust domain of ficus's workload identities: `spiffe://ficus.local/target/<name>`. */
export const TRUST_DOMAIN = 'ficus.local';

export function spiffeIdOf(target: string): string {
  return `spiffe://${TRUST_DOMAIN}/target/${target}`;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

function pem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${base64.trimEnd()}\n-----END ${label}-----\n`;
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

async function loadCa(dir: string): Promise<{ cert: x509.X509Certificate; key: CryptoKey } | undefined> {
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  const cert = new x509.X509Certificate(readFileSync(certPath, 'utf8'));
  const der = Buffer.from(readFileSync(keyPath, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const key = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
  return { cert, key: key as unknown as CryptoKey };
}

/**
 * A small local certificate authority for the gRPC links between ficus processes (mutual TLS):
 * `ca.crt` / `ca.key`, and for each deploy target `<target>.crt` / `<target>.key`, an ECDSA P-256
 * certificate for both ends of a connection (server and client auth) whose subject alternative
 * names are the target's SPIFFE ID (what the receiving side authorizes), its name and the given
 * hosts (what the calling side verifies). Keeps an existing CA (certificates of new targets stay
 * trusted by running processes); writes keys readable by their owner only.
 */
export async function issueLocalCertificates(
  dir: string,
  targets: readonly string[],
  hosts: readonly string[] = ['localhost', '127.0.0.1'],
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  let ca = await loadCa(dir);
  if (!ca) {
    const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=ficus local CA',
      keys,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + 3650 * DAY_MS),
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    writeFileSync(join(dir, 'ca.crt'), cert.toString('pem'));
    writeSecret(
      join(dir, 'ca.key'),
      pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as never)),
    );
    ca = { cert, key: keys.privateKey };
  }

  for (const target of targets) {
    const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
    const names: x509.JsonGeneralName[] = [
      { type: 'url', value: spiffeIdOf(target) },
      { type: 'dns', value: target },
      ...hosts.map((host): x509.JsonGeneralName =>
        isIP(host) ? { type: 'ip', value: host } : { type: 'dns', value: host },
      ),
    ];
    const cert = await x509.X509CertificateGenerator.create({
      subject: `CN=${target}`,
      issuer: ca.cert.subject,
      publicKey: keys.publicKey,
      signingKey: ca.key,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + 365 * DAY_MS),
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension(names),
        await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ],
    });
    writeFileSync(join(dir, `${target}.crt`), cert.toString('pem'));
    writeSecret(
      join(dir, `${target}.key`),
      pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as never)),
    );
  }
}
