-- Custom SQL migration file, put your code below! ---- Databases created before issue 3 hold ledger entries without a journal position, without
-- materialized balances and without command-log rows. Backfill all three from the immutable
-- postings so the new read and idempotency paths see the old entries (ADR 0003).
UPDATE `ledger_entries` SET `seq` = (
  SELECT count(*) FROM `ledger_entries` AS e
  WHERE e.`tenant_id` = `ledger_entries`.`tenant_id` AND e.`app_id` = `ledger_entries`.`app_id`
    AND (e.`created_at` < `ledger_entries`.`created_at`
      OR (e.`created_at` = `ledger_entries`.`created_at` AND e.`id` <= `ledger_entries`.`id`))
) WHERE `seq` = 0;
--> statement-breakpoint
UPDATE `ledger_postings` SET `entry_seq` = (
  SELECT e.`seq` FROM `ledger_entries` AS e WHERE e.`id` = `ledger_postings`.`entry_id`
) WHERE `entry_seq` = 0;
--> statement-breakpoint
INSERT OR IGNORE INTO `ledger_balances`
  (`tenant_id`, `app_id`, `account_id`, `currency`, `debits_posted`, `credits_posted`, `debits_pending`, `credits_pending`, `held`, `updated_at`)
SELECT `tenant_id`, `app_id`, `account_id`, `currency`,
  coalesce(sum(CASE WHEN `amount` > 0 THEN `amount` ELSE 0 END), 0),
  coalesce(sum(CASE WHEN `amount` < 0 THEN -`amount` ELSE 0 END), 0),
  0, 0, 0, max(`created_at`)
FROM `ledger_postings` GROUP BY `tenant_id`, `app_id`, `account_id`, `currency`;
--> statement-breakpoint
INSERT OR IGNORE INTO `ledger_commands` (`tenant_id`, `app_id`, `idempotency_key`, `kind`, `payload_hash`, `entry_id`, `hold_id`, `created_at`)
SELECT `tenant_id`, `app_id`, `idempotency_key`, 'post_entry', `payload_hash`, `id`, NULL, `created_at` FROM `ledger_entries`;
