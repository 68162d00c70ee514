-- ADR 0015 (the writer): (tenant, app, account_id, currency) duplicated ledger_postings_account_seq_idx for every
-- query (an account has one currency; listing by account uses (account_id, entry_seq)); each posting paid for it.
DROP INDEX `ledger_postings_account_idx`;