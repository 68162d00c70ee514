/**
 * Customer session tokens: what a browser carries, next to the publishable key, to act for one
 * customer. The customer's backend mints one with its secret key (`POST /v1/customer_sessions`);
 * the API verifies it with an HMAC-SHA-256 (Web Crypto) and no database read.
 *
 * Format: `cs_<payload>.<signature>`, both base64url; the payload is the JSON of
 * {@link SessionClaims}. The signing key of an app is derived with HKDF-SHA-256 from the server's
 * session secret and the app's scope, so a token of one app never verifies for another, and
 * changing the secret (`BILLING_ENCRYPTION_KEY` in the runtimes, ADR 0013) ends every session at once.
 *
 * @module
 */

/** What a customer session token states. */
export interface SessionClaims {
  /** Format version (1). */
  v: 1;
  /** Tenant of the app that minted the token. */
  ten: string;
  /** App that minted the token. */
  app: string;
  /** Id (`key_…`) of the secret key that minted it: revoking that key ends the session. */
  kid: string;
  /** The customer's `cus_…` id. */
  cus: string;
  /** The customer's external id (requests may name the customer by either). */
  ext: string;
  /** Issued at, Unix seconds. */
  iat: number;
  /** Expires at, Unix seconds (exclusive: invalid from this second on). */
  exp: number;
  /** Features the token may check or record; absent = every feature. */
  ftr?: string[];
}

/** Why a token was refused by {@link verifySessionToken}. */
export type SessionFailure = "malformed" | "bad_signature" | "expired";

/** Longest token accepted, in characters (a token with 64 features of 128 characters fits). */
export const MAX_SESSION_TOKEN_CHARS = 16_384;

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * Derives and caches the HMAC keys of each app from one server secret.
 *
 * @example
 * const signer = new SessionSigner(adminToken);
 * const token = await signer.sign(claims);
 * const result = await signer.verify(token, Date.now());
 */
export class SessionSigner {
  readonly #base: Promise<CryptoKey>;
  readonly #keys = new Map<string, Promise<CryptoKey>>();
  /** Most per-app keys kept derived; the cache is emptied when full. */
  static readonly MAX_CACHED_KEYS = 10_000;

  /**
   * Prepares signing and verification under one server secret.
   *
   * @param secret the server's session secret; one shorter than 16 characters (a deployment without
   *   an admin token) is replaced by 32 random bytes, so tokens then verify only in this process and
   *   can never be forged with a guessable key
   */
  constructor(secret: string) {
    const material = secret.length >= 16
      ? encoder.encode(secret)
      : crypto.getRandomValues(new Uint8Array(32));
    this.#base = crypto.subtle.importKey("raw", material, "HKDF", false, ["deriveKey"]);
  }

  #keyOf(tenantId: string, appId: string): Promise<CryptoKey> {
    const id = `${tenantId}/${appId}`;
    let key = this.#keys.get(id);
    if (!key) {
      key = this.#base.then((base) =>
        crypto.subtle.deriveKey(
          {
            name: "HKDF",
            hash: "SHA-256",
            salt: new Uint8Array(0),
            info: encoder.encode(`customer-session v1 ${id}`),
          },
          base,
          { name: "HMAC", hash: "SHA-256", length: 256 },
          false,
          ["sign", "verify"],
        )
      );
      if (this.#keys.size >= SessionSigner.MAX_CACHED_KEYS) this.#keys.clear();
      this.#keys.set(id, key);
    }
    return key;
  }

  /** Signs `claims` into a `cs_…` token. */
  async sign(claims: SessionClaims): Promise<string> {
    const payload = base64url(encoder.encode(JSON.stringify(claims)));
    const key = await this.#keyOf(claims.ten, claims.app);
    const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(payload)));
    return `cs_${payload}.${base64url(signature)}`;
  }

  /**
   * Checks a token's signature (constant time, Web Crypto) and expiry.
   *
   * @param nowMs the current time in Unix milliseconds
   * @returns the claims, or why the token is refused
   */
  async verify(
    token: string,
    nowMs: number,
  ): Promise<{ ok: true; claims: SessionClaims } | { ok: false; reason: SessionFailure }> {
    if (token.length > MAX_SESSION_TOKEN_CHARS || !token.startsWith("cs_")) {
      return { ok: false, reason: "malformed" };
    }
    const [payload, signatureText, extra] = token.slice(3).split(".");
    if (extra !== undefined || !payload || !signatureText) return { ok: false, reason: "malformed" };
    const payloadBytes = fromBase64url(payload);
    const signature = fromBase64url(signatureText);
    if (!payloadBytes || !signature) return { ok: false, reason: "malformed" };
    let claims: SessionClaims;
    try {
      claims = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payloadBytes));
    } catch {
      return { ok: false, reason: "malformed" };
    }
    if (!isClaims(claims)) return { ok: false, reason: "malformed" };
    const key = await this.#keyOf(claims.ten, claims.app);
    const valid = await crypto.subtle.verify("HMAC", key, signature, encoder.encode(payload));
    if (!valid) return { ok: false, reason: "bad_signature" };
    if (nowMs >= claims.exp * 1000) return { ok: false, reason: "expired" };
    return { ok: true, claims };
  }
}

function isClaims(value: unknown): value is SessionClaims {
  if (typeof value !== "object" || value === null) return false;
  const c = value as Record<string, unknown>;
  const text = (v: unknown) => typeof v === "string" && v.length > 0 && v.length <= 256;
  return c.v === 1 && text(c.ten) && text(c.app) && text(c.kid) && text(c.cus) && text(c.ext) &&
    Number.isSafeInteger(c.iat) && Number.isSafeInteger(c.exp) &&
    (c.ftr === undefined || (Array.isArray(c.ftr) && c.ftr.every(text)));
}
