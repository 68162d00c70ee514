/**
 * Start-up backfill of encryption at rest (ADR 0012): seals every secret column value still in
 * clear (written before encryption existed). Idempotent: a sealed value (`enc:v1:…`) is left
 * alone, so every process and every start may run it; two processes running it at once write
 * the same kind of value twice at worst (each update re-checks that the value is still in clear).
 *
 * Global on purpose: it runs once per database (libSQL, PostgreSQL) or per Durable Object, before
 * any scope is known, like the migrations.
 *
 * @module
 */
import { and, eq, like, not } from "drizzle-orm";
import type { Store } from "./db.ts";
import { paymentProviderConfigs, webhookEndpoints } from "./schema.ts";
import { SEALED_PREFIX, type SecretBox } from "./secret_box.ts";

/** Rows read per pass (a limit on everything; a pass repeats until none is left). */
export const BACKFILL_PAGE = 100;

/** What {@link sealPlaintextSecrets} changed. */
export interface BackfillReport {
  /** Webhook endpoints whose signing secret was sealed. */
  webhook_endpoints: number;
  /** Stripe configurations whose API key and webhook secret were sealed. */
  payment_provider_configs: number;
}

const notSealed = (column: typeof webhookEndpoints.secret | typeof paymentProviderConfigs.api_key) =>
  not(like(column, `${SEALED_PREFIX}%`));

/**
 * Seals every plaintext secret of the database.
 *
 * @param box the process's keys; new seals use its current key (the AES-GCM additional data is the
 *   column name, as `webhooks/endpoints.ts` and `payments/stripe_config.ts` seal them)
 * @returns how many rows were sealed per table (0 and 0 once done)
 */
export async function sealPlaintextSecrets(database: Store, box: SecretBox): Promise<BackfillReport> {
  const report: BackfillReport = { webhook_endpoints: 0, payment_provider_configs: 0 };
  for (;;) {
    const rows = await database.db.select({ id: webhookEndpoints.id, secret: webhookEndpoints.secret })
      .from(webhookEndpoints).where(notSealed(webhookEndpoints.secret)).limit(BACKFILL_PAGE);
    if (rows.length === 0) break;
    const sealed = await Promise.all(rows.map((r) => box.seal(r.secret, "webhook_endpoints.secret")));
    await database.write(async (tx) => {
      for (const [i, row] of rows.entries()) {
        await tx.update(webhookEndpoints).set({ secret: sealed[i] })
          .where(and(eq(webhookEndpoints.id, row.id), eq(webhookEndpoints.secret, row.secret)));
      }
    });
    report.webhook_endpoints += rows.length;
  }
  const t = paymentProviderConfigs;
  for (;;) {
    const rows = await database.db.select().from(t)
      .where(notSealed(t.api_key)).limit(BACKFILL_PAGE);
    if (rows.length === 0) break;
    const sealed = await Promise.all(rows.map(async (row) => ({
      api_key: await box.seal(row.api_key, "payment_provider_configs.api_key"),
      webhook_secret: row.webhook_secret.startsWith(SEALED_PREFIX)
        ? row.webhook_secret
        : await box.seal(row.webhook_secret, "payment_provider_configs.webhook_secret"),
    })));
    await database.write(async (tx) => {
      for (const [i, row] of rows.entries()) {
        await tx.update(t).set(sealed[i]).where(
          and(
            eq(t.tenant_id, row.tenant_id),
            eq(t.app_id, row.app_id),
            eq(t.provider, row.provider),
            eq(t.api_key, row.api_key),
          ),
        );
      }
    });
    report.payment_provider_configs += rows.length;
  }
  return report;
}
