/**
 * Encryption at rest of the secret columns (ADR 0012): AES-256-GCM through Web Crypto, the same
 * code on Deno, Deno Deploy and workerd.
 *
 * A sealed value is `enc:v1:<key id>:<iv>:<ciphertext>`: `key id` is the first 8 hex digits of the
 * SHA-256 of the raw key (so a value names the key that sealed it, and keys need no names), `iv`
 * 12 random bytes and `ciphertext` the GCM output with its 16-byte tag, both base64url without
 * padding. The column's name (`webhook_endpoints.secret`…) is the additional authenticated data,
 * so a value copied into another column does not open.
 *
 * New values are sealed with the current key (`BILLING_ENCRYPTION_KEY`); any key of
 * `BILLING_ENCRYPTION_OLD_KEYS` still opens the values it sealed, which is how the key is rotated.
 *
 * @module
 */

import { BillingError } from "../domain/errors.ts";

/** Prefix of every sealed value (format version 1). */
export const SEALED_PREFIX = "enc:v1:";

/** Thrown when a value cannot be opened: unknown key id, tampered ciphertext or wrong column. */
export class SecretBoxError extends Error {
  /** Always `"SecretBoxError"`. */
  override name = "SecretBoxError";
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * Decodes a `BILLING_ENCRYPTION_KEY` value: standard or url-safe base64 of exactly 32 bytes.
 *
 * @returns the raw key bytes, or `null` when the text is not base64 of 32 bytes
 */
export function decodeEncryptionKey(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text.trim())) return null;
  try {
    const bytes = fromBase64url(text.trim().replace(/=$/, ""));
    return bytes.length === 32 ? bytes : null;
  } catch {
    return null;
  }
}

/** A new random key as `BILLING_ENCRYPTION_KEY` expects it (standard base64 of 32 bytes). */
export function generateEncryptionKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Whether a stored value is sealed (else it is a plaintext value written before encryption). */
export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

interface LoadedKey {
  id: string;
  key: CryptoKey;
}

async function importKey(raw: Uint8Array<ArrayBuffer>): Promise<LoadedKey> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  const id = Array.from(digest.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  return { id, key };
}

/**
 * Seals and opens secret column values. Build one per process with {@link SecretBox.create}.
 *
 * @example
 * const box = await SecretBox.create(generateEncryptionKey());
 * const stored = await box.seal("whsec_…", "webhook_endpoints.secret");
 * await box.open(stored, "webhook_endpoints.secret"); // "whsec_…"
 */
export class SecretBox {
  readonly #current: LoadedKey;
  readonly #byId: Map<string, LoadedKey>;

  private constructor(current: LoadedKey, all: LoadedKey[]) {
    this.#current = current;
    this.#byId = new Map(all.map((k) => [k.id, k]));
  }

  /**
   * Imports the keys.
   *
   * @param current base64 of 32 bytes: seals every new value and opens its own
   * @param old base64 keys that only open values they sealed (a rotation's previous keys)
   * @throws {SecretBoxError} when a key is not base64 of 32 bytes (the message never shows it)
   */
  static async create(current: string, old: readonly string[] = []): Promise<SecretBox> {
    const decode = (text: string, what: string) => {
      const raw = decodeEncryptionKey(text);
      if (!raw) throw new SecretBoxError(`${what} is not base64 of 32 bytes`);
      return raw;
    };
    const main = await importKey(decode(current, "BILLING_ENCRYPTION_KEY"));
    const others = await Promise.all(old.map((k) => importKey(decode(k, "BILLING_ENCRYPTION_OLD_KEYS"))));
    return new SecretBox(main, [...others, main]);
  }

  /** Id of the key new values are sealed with (8 hex digits; safe to log). */
  get keyId(): string {
    return this.#current.id;
  }

  /**
   * Seals `plaintext` under the current key.
   *
   * @param column `table.column` the value is stored in (bound as additional authenticated data)
   * @returns `enc:v1:<key id>:<iv>:<ciphertext>`
   */
  async seal(plaintext: string, column: string): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(column) },
      this.#current.key,
      new TextEncoder().encode(plaintext),
    );
    return `${SEALED_PREFIX}${this.#current.id}:${base64url(iv)}:${base64url(new Uint8Array(sealed))}`;
  }

  /**
   * Opens a stored value. A value that is not sealed (written before encryption, not yet
   * backfilled) is returned as it is.
   *
   * @param column the `table.column` it was sealed for
   * @throws {SecretBoxError} for an unknown key id (the key was dropped from
   *   `BILLING_ENCRYPTION_OLD_KEYS` too early) or a value that does not authenticate
   */
  async open(stored: string, column: string): Promise<string> {
    if (!isSealed(stored)) return stored;
    const [id, iv, data] = stored.slice(SEALED_PREFIX.length).split(":");
    const key = this.#byId.get(id);
    if (!key) {
      throw new SecretBoxError(
        `A ${column} value is sealed with key ${id}, which is neither BILLING_ENCRYPTION_KEY nor in BILLING_ENCRYPTION_OLD_KEYS`,
      );
    }
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: fromBase64url(iv ?? ""), additionalData: new TextEncoder().encode(column) },
        key.key,
        fromBase64url(data ?? ""),
      );
      return new TextDecoder().decode(plain);
    } catch {
      throw new SecretBoxError(`A ${column} value does not authenticate under key ${id}`);
    }
  }
}

/**
 * The services' {@link SecretBox}.
 *
 * @throws {BillingError} `encryption_key_missing` (503) when the process has no encryption key:
 *   a secret is never stored or read in clear
 */
export function requireSecrets(services: { secrets?: SecretBox }): SecretBox {
  if (services.secrets) return services.secrets;
  throw new BillingError(
    "encryption_key_missing",
    "unavailable",
    "The server has no BILLING_ENCRYPTION_KEY, so it cannot store or read secrets",
    { retryable: false },
  );
}
