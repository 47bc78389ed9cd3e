/**
 * Key pairs from the core, for the modules' TLS. get() asks for the fingerprint on every call and fetches the
 * pair only when it changed; the parsed pair is cached. A failed fetch or an unusable pair keeps the previous
 * one, so a core hiccup during a refresh never takes TLS away. The store holds no TLS policy: each module makes
 * its contexts from the PEMs with its own (createServerSecureContext, LDAP and EAP alike), the same as for its generated default.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { CoreApi } from '../core-api/port.js';
import { CONTROL_LIMITS } from '../config/limits.js';
import type { Logger } from '../observability/log.js';

export interface KeyPairMaterial {
  uuid: string;
  /** As the core reports it (lowercase hex), or our own when the core sent none. */
  fingerprintSha256: string;
  /** Leaf first, then any chain, as the core sent it. */
  certificatePem: string;
  privateKeyPem: string;
  certificate: X509Certificate;
  privateKey: KeyObject;
}

export class CertificateStore {
  readonly #api: CoreApi;
  readonly #logger: Logger;
  readonly #maxEntries: number;
  readonly #pairs = new Map<string, KeyPairMaterial>();
  readonly #inFlight = new Map<string, Promise<KeyPairMaterial | undefined>>();

  constructor(api: CoreApi, logger: Logger, options: { maxEntries?: number } = {}) {
    this.#api = api;
    this.#logger = logger;
    this.#maxEntries = options.maxEntries ?? CONTROL_LIMITS.certificateCacheEntries;
  }

  /** The current pair for this key pair uuid, refetched if its fingerprint changed; undefined if none usable. */
  get(uuid: string): Promise<KeyPairMaterial | undefined> {
    const running = this.#inFlight.get(uuid);
    if (running !== undefined) return running;
    const p = this.#load(uuid).finally(() => this.#inFlight.delete(uuid));
    this.#inFlight.set(uuid, p);
    return p;
  }

  /** The cached pair without asking the core (for TLS callbacks on the hot path). */
  cached(uuid: string): KeyPairMaterial | undefined {
    return this.#pairs.get(uuid);
  }

  /** Drops pairs no provider references any more. */
  retain(uuids: Iterable<string>): void {
    const keep = new Set(uuids);
    for (const uuid of this.#pairs.keys()) if (!keep.has(uuid)) this.#pairs.delete(uuid);
  }

  async #load(uuid: string): Promise<KeyPairMaterial | undefined> {
    const log = this.#logger.child({ kp: uuid });
    const previous = this.#pairs.get(uuid);
    let fingerprint: string | null;
    try {
      fingerprint = (await this.#api.certificate(uuid)).fingerprintSha256;
    } catch (err) {
      log.warn({ err: describe(err) }, 'failed to fetch certificate fingerprint, keeping previous');
      return previous;
    }
    if (previous !== undefined && fingerprint !== null && sameFingerprint(previous.fingerprintSha256, fingerprint)) {
      return previous;
    }
    let material: KeyPairMaterial;
    try {
      const pair = await this.#api.certificatePair(uuid);
      material = parsePair(uuid, pair.certificatePem, pair.privateKeyPem, pair.fingerprintSha256 ?? fingerprint);
    } catch (err) {
      log.warn({ err: describe(err) }, 'failed to load certificate key pair, keeping previous');
      return previous;
    }
    this.#pairs.delete(uuid);
    this.#pairs.set(uuid, material);
    while (this.#pairs.size > this.#maxEntries) {
      const oldest = this.#pairs.keys().next().value;
      if (oldest === undefined) break;
      this.#pairs.delete(oldest);
    }
    log.debug({ fingerprint: material.fingerprintSha256 }, 'updated certificate');
    return material;
  }
}

/** Validates PEMs (parse, key matches certificate) into usable material; throws without echoing key material. */
export function parsePair(uuid: string, certificatePem: string, privateKeyPem: string, fingerprint: string | null): KeyPairMaterial {
  if (privateKeyPem.trim() === '') throw new Error('key pair has no private key');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    throw new Error('certificate is not valid PEM');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch {
    throw new Error('private key is not valid PEM');
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new Error('private key does not match the certificate');
  return {
    uuid,
    fingerprintSha256: fingerprint ?? certificate.fingerprint256.replace(/:/g, '').toLowerCase(),
    certificatePem,
    privateKeyPem,
    certificate,
    privateKey,
  };
}

function sameFingerprint(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/:/g, '').toLowerCase();
  return norm(a) === norm(b);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
