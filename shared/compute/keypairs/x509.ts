// x509 key pairs (keypair type "x509", from 2.2): what nova/crypto.py does with openssl. Imported ones
// are PEM certificates, fingerprinted by the SHA-1 of their DER; generated ones are
// generate_winrm_x509_cert's: a 2048-bit RSA key and a self-signed certificate for CN=<user id>, client
// authentication with the UPN <user id>@localhost (WinRM certificate logon), valid 3650 days; the
// private key is returned as a PKCS#12 bundle (empty password) in base64, the certificate as PEM.
// No library: the DER below is just what those two structures need (X.690, RFC 5280, RFC 7292).
import { createHash, createHmac, generateKeyPair, randomBytes, sign, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { badRequest } from '../../http/errors';

// ---- DER ----
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]) => {
  const c = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(c.length), c]);
};
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const explicit = (n: number, ...c: Buffer[]) => tlv(0xa0 + n, ...c);
const octets = (b: Buffer) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const NULL = Buffer.from([0x05, 0x00]);
function int(v: number | Buffer): Buffer {
  const hex = typeof v === 'number' ? v.toString(16) : '';
  let b = typeof v === 'number' ? Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex') : v;
  while (b.length > 1 && b[0] === 0 && !(b[1] & 0x80)) b = b.subarray(1);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}
function oid(s: string): Buffer {
  const [a, b, ...rest] = s.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime after. */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}
const alg = (o: string, params: Buffer | null = NULL) => seq(oid(o), ...(params ? [params] : []));

const OID = {
  sha256WithRSA: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  extKeyUsage: '2.5.29.37',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  subjectAltName: '2.5.29.17',
  msUpn: '1.3.6.1.4.1.311.20.2.3',
  data: '1.2.840.113549.1.7.1',
  keyShroudedBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  sha256: '2.16.840.1.101.3.4.2.1',
};

/** Nova's fingerprint form: lower-case hex pairs joined by ':'. */
const colonHex = (b: Buffer) => b.toString('hex').match(/../g)!.join(':');

/** crypto.generate_x509_fingerprint: the SHA-1 of a PEM certificate; anything else is InvalidKeypair (400). */
export function x509Fingerprint(pem: string): string {
  let cert: X509Certificate | undefined;
  try {
    if (/-----BEGIN CERTIFICATE-----/.test(pem)) cert = new X509Certificate(pem);
  } catch {
    cert = undefined;
  }
  if (!cert) {
    throw badRequest(
      'Keypair data is invalid: failed to generate X509 fingerprint. Error message: Unable to load PEM file. See https://cryptography.io/en/latest/faq/#why-can-t-i-import-my-pem-file for more details.',
    );
  }
  return colonHex(createHash('sha1').update(cert.raw).digest());
}

/** RFC 7292 appendix B.2 with SHA-256 (u = 32, v = 64): the MAC key from the BMPString password. */
function pkcs12Key(password: Buffer, salt: Buffer, iterations: number, id: number, n: number): Buffer {
  const v = 64;
  const fill = (b: Buffer) => (b.length === 0 ? Buffer.alloc(0) : Buffer.concat(Array.from({ length: Math.ceil(b.length / v) * v }, (_, i) => Buffer.from([b[i % b.length]]))));
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const out: Buffer[] = [];
  for (let got = 0; got < n; got += 32) {
    let A = createHash('sha256').update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash('sha256').update(A).digest();
    out.push(A);
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k] + B[k] + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, n);
}

const generateRsa = promisify(generateKeyPair);

/** crypto.generate_winrm_x509_cert: (private key as base64 PKCS#12, certificate PEM, fingerprint). */
export async function generateWinrmX509(userId: string): Promise<{ privateKey: string; certificate: string; fingerprint: string }> {
  const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const name = seq(set(seq(oid(OID.commonName), utf8(userId))));
  const now = new Date();
  const extensions = explicit(
    3,
    seq(
      seq(oid(OID.extKeyUsage), octets(seq(oid(OID.clientAuth)))),
      // GeneralName otherName [0] IMPLICIT { type-id, [0] EXPLICIT UTF8String }
      seq(oid(OID.subjectAltName), octets(seq(explicit(0, oid(OID.msUpn), explicit(0, utf8(`${userId}@localhost`)))))),
    ),
  );
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const tbs = seq(
    explicit(0, int(2)),
    int(serial),
    alg(OID.sha256WithRSA),
    name,
    seq(time(now), time(new Date(now.getTime() + 3650 * 86400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const der = seq(tbs, alg(OID.sha256WithRSA), tlv(0x03, Buffer.from([0]), sign('sha256', tbs, privateKey)));
  const certificate = `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END CERTIFICATE-----\n`;

  // PKCS#12 as `openssl pkcs12 -export -password pass:` (OpenSSL 3) writes it: the key shrouded with
  // PBES2 (PBKDF2, AES-256-CBC), the certificate, both tagged with the certificate's SHA-1 as local key
  // id, and an HMAC-SHA256 integrity MAC under the empty password.
  const keyId = set(seq(oid(OID.localKeyId), set(octets(createHash('sha1').update(der).digest()))));
  const shrouded = privateKey.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: '' });
  const certBag = seq(oid(OID.certBag), explicit(0, seq(oid(OID.x509Certificate), explicit(0, octets(der)))), keyId);
  const keyBag = seq(oid(OID.keyShroudedBag), explicit(0, shrouded), keyId);
  const dataInfo = (content: Buffer) => seq(oid(OID.data), explicit(0, octets(content)));
  const authSafe = seq(dataInfo(seq(certBag)), dataInfo(seq(keyBag)));
  const salt = randomBytes(8);
  const iterations = 2048;
  const macKey = pkcs12Key(Buffer.from([0, 0]), salt, iterations, 3, 32);
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  const pfx = seq(int(3), dataInfo(authSafe), seq(seq(alg(OID.sha256), octets(mac)), octets(salt), int(iterations)));
  return { privateKey: pfx.toString('base64'), certificate, fingerprint: colonHex(createHash('sha1').update(der).digest()) };
}
