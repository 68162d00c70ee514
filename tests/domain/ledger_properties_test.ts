/**
 * Property tests (fast-check) of the pure ledger and inventory rules: posting checks, the
 * available rule, the high-level postings, and random command sequences on the state machines
 * (`LedgerBook`, `InventoryBook`) with their invariants after every command.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { BillingError } from "../../src/domain/errors.ts";
import {
  foldOperations,
  InventoryBook,
  type InventoryCommand,
  type InventoryOperation,
} from "../../src/domain/inventory.ts";
import {
  type BalanceCounters,
  checkPostings,
  type LedgerAccount,
  normalBalanceOf,
  paymentPostings,
  satisfiesConstraints,
  summarizeBalance,
} from "../../src/domain/ledger.ts";
import { LedgerBook, type LedgerCommand } from "../../src/domain/ledger_book.ts";

const codeOf = (fn: () => unknown): string | null => {
  try {
    fn();
    return null;
  } catch (error) {
    if (error instanceof BillingError) return error.code;
    throw error;
  }
};

const amount = fc.integer({ min: 1, max: 1_000_000 });
const currency = fc.constantFrom("USD", "EUR", "JPY");

Deno.test("checkPostings() accepts every entry balanced per currency and rejects any imbalance", () => {
  fc.assert(fc.property(
    fc.array(fc.record({ currency, amounts: fc.array(amount, { minLength: 1, maxLength: 4 }) }), {
      minLength: 1,
      maxLength: 3,
    }),
    fc.nat(),
    (groups, pick) => {
      const postings = groups.flatMap((g, gi) => {
        const legs = g.amounts.map((a, i) => ({
          account_id: `a${gi}-${i}`,
          amount: a,
          currency: g.currency,
        }));
        const total = g.amounts.reduce((s, a) => s + a, 0);
        return [...legs, { account_id: `b${gi}`, amount: -total, currency: g.currency }];
      });
      assert.equal(codeOf(() => checkPostings(postings)), null);
      const broken = postings.map((
        p,
        i,
      ) => (i === pick % postings.length ? { ...p, amount: p.amount + (p.amount > 0 ? 1 : -1) } : p));
      assert.equal(codeOf(() => checkPostings(broken)), "postings_not_balanced");
    },
  ));
});

Deno.test("summarizeBalance(): available = posted − held on the normal side, for debit- and credit-normal accounts", () => {
  const counters = fc.record({
    debits_posted: fc.nat(1e9),
    credits_posted: fc.nat(1e9),
    debits_pending: fc.nat(1e9),
    credits_pending: fc.nat(1e9),
    held: fc.nat(1e9),
  });
  fc.assert(
    fc.property(
      counters,
      fc.constantFrom("debit", "credit") as fc.Arbitrary<"debit" | "credit">,
      (c, normal) => {
        const s = summarizeBalance(normal, c);
        assert.equal(s.available, s.posted - s.held);
        assert.equal(
          s.posted,
          normal === "debit" ? c.debits_posted - c.credits_posted : c.credits_posted - c.debits_posted,
        );
        const mirrored = summarizeBalance(normal === "debit" ? "credit" : "debit", {
          debits_posted: c.credits_posted,
          credits_posted: c.debits_posted,
          debits_pending: c.credits_pending,
          credits_pending: c.debits_pending,
          held: c.held,
        });
        assert.deepEqual(mirrored, s, "swapping sides and normal balance changes nothing");
      },
    ),
  );
});

Deno.test("paymentPostings(): sums to zero, the customer and the platform together receive the amount, fees > amount refused", () => {
  fc.assert(fc.property(amount, fc.nat(), (a, f) => {
    const fees = f % (a + 1);
    const postings = paymentPostings({ amount: a, fees, currency: "USD", customer_id: "c" });
    assert.equal(
      codeOf(() =>
        checkPostings(
          postings.map((p) => ({ account_id: p.account.name, amount: p.amount, currency: p.currency })),
        )
      ),
      null,
    );
    assert.equal(-postings.slice(1).reduce((s, p) => s + p.amount, 0), a);
    assert.equal(
      codeOf(() => paymentPostings({ amount: a, fees: a + 1, currency: "USD", customer_id: "c" })),
      "fees_exceed_amount",
    );
  }));
});

// ---- the ledger state machine under random command sequences ----

const ACCOUNTS: LedgerAccount[] = [
  ["cash", "asset", false, false],
  ["revenue", "revenue", false, false],
  ["wallet", "liability", true, false],
  ["reserve", "asset", false, true],
  ["expense", "expense", false, false],
].map(([name, type, d, c]) => ({
  id: `acc_${name}`,
  name: name as string,
  type: type as LedgerAccount["type"],
  currency: "USD",
  normal_balance: normalBalanceOf(type as LedgerAccount["type"]),
  metadata: null,
  debits_must_not_exceed_credits: d as boolean,
  credits_must_not_exceed_debits: c as boolean,
  created_at: new Date(0),
}));

const accountId = fc.constantFrom(...ACCOUNTS.map((a) => a.id));
/** Keys from a small space, so replays and conflicting reuses happen often. */
const key = fc.integer({ min: 1, max: 40 }).map((n) => `k${n}`);
const ledgerCommand: fc.Arbitrary<
  LedgerCommand | { kind: "capture_ref" | "void_ref"; index: number; amount?: number } | {
    kind: "tick";
    seconds: number;
  }
> = fc.oneof(
  fc.record({
    kind: fc.constant("post_entry" as const),
    idempotency_key: key,
    from: accountId,
    to: accountId,
    amount,
  }).map((c) => ({
    kind: "post_entry" as const,
    idempotency_key: c.idempotency_key,
    postings: [{ account_id: c.from, amount: c.amount, currency: "USD" }, {
      account_id: c.to,
      amount: -c.amount,
      currency: "USD",
    }],
  })),
  fc.record({
    kind: fc.constant("create_hold" as const),
    idempotency_key: key,
    account_id: accountId,
    destination_account_id: accountId,
    amount,
    currency: fc.constant("USD"),
    ttl_seconds: fc.integer({ min: 1, max: 100 }),
  }),
  fc.record({
    kind: fc.constant("capture_ref" as const),
    index: fc.nat(),
    amount: fc.option(amount, { nil: undefined }),
  }),
  fc.record({ kind: fc.constant("void_ref" as const), index: fc.nat() }),
  fc.record({ kind: fc.constant("tick" as const), seconds: fc.integer({ min: 0, max: 60 }) }),
);

function snapshotOf(book: LedgerBook, holdIds: string[]) {
  return JSON.stringify({
    balances: ACCOUNTS.map((a) => book.balanceOf(a.id)),
    holds: holdIds.map((id) => book.hold(id)),
    changes: { ...book.changes(), balances: [...book.changes().balances.entries()] },
  });
}

Deno.test("LedgerBook: random commands keep the books balanced, constraints held, held = Σ pending holds; rejections change nothing", () => {
  const seen = { accepted: 0, rejected: 0, captured: 0, expired: 0 };
  fc.assert(
    fc.property(fc.array(ledgerCommand, { minLength: 10, maxLength: 80 }), (commands) => {
      let now = Date.parse("2026-01-01T00:00:00Z");
      // Funded start (sums to zero): cash and reserve debited, wallet and revenue credited 1 000 000.
      const funded = (d: number, c: number): BalanceCounters => ({
        debits_posted: d,
        credits_posted: c,
        debits_pending: 0,
        credits_pending: 0,
        held: 0,
      });
      const balances = new Map<string, BalanceCounters>([
        ["acc_cash", funded(1e6, 0)],
        ["acc_reserve", funded(1e6, 0)],
        ["acc_wallet", funded(0, 1e6)],
        ["acc_revenue", funded(0, 1e6)],
      ]);
      const records: ReturnType<LedgerBook["changes"]>["records"] = [];
      const holds: NonNullable<ReturnType<LedgerBook["hold"]>>[] = [];
      const holdIds: string[] = [];
      const entries: NonNullable<ReturnType<LedgerBook["changes"]>["entries"]> = [];
      for (const c of commands) {
        if (c.kind === "tick") {
          now += c.seconds * 1000;
          continue;
        }
        // A fresh book per command (a batch of one), built from the state so far, like storage does.
        const book = new LedgerBook({
          accounts: ACCOUNTS,
          balances,
          holds,
          records,
          entries,
          reversedEntryIds: new Set(),
          lastSeq: entries.length,
        }, new Date(now));
        book.expireDue();
        let command: LedgerCommand;
        if (c.kind === "capture_ref" || c.kind === "void_ref") {
          if (holdIds.length === 0) continue;
          const hold_id = holdIds[c.index % holdIds.length];
          command = c.kind === "capture_ref"
            ? { kind: "capture_hold", hold_id, ...(c.amount !== undefined ? { amount: c.amount } : {}) }
            : { kind: "void_hold", hold_id };
        } else command = c as LedgerCommand;
        const before = snapshotOf(book, holdIds);
        const outcome = book.apply(command, JSON.stringify(command));
        if (!outcome.ok) {
          assert.equal(snapshotOf(book, holdIds), before, `${outcome.error.code} changed the book`);
        }
        seen[outcome.ok ? "accepted" : "rejected"]++;
        const changes = book.changes();
        entries.push(...changes.entries);
        for (const [id, { counters }] of changes.balances) balances.set(id, counters);
        for (const h of changes.holds) {
          const i = holds.findIndex((x) => x.id === h.id);
          if (i >= 0) {
            const previous = holds[i].status;
            assert.ok(
              previous === h.status || previous === "pending",
              `hold moved ${previous} → ${h.status}`,
            );
            holds[i] = h;
          } else {
            holds.push(h);
            holdIds.push(h.id);
          }
          if (h.status === "captured") assert.ok(h.captured_amount! <= h.amount && h.captured_amount! > 0);
          if (h.status === "captured") seen.captured++;
          if (h.status === "expired") seen.expired++;
        }
        records.push(...changes.records);
        // Invariants.
        let net = 0;
        for (const a of ACCOUNTS) {
          const b = balances.get(a.id) ??
            { debits_posted: 0, credits_posted: 0, debits_pending: 0, credits_pending: 0, held: 0 };
          net += b.debits_posted - b.credits_posted;
          assert.ok(satisfiesConstraints(a, b), `constraint of ${a.name} broken`);
          const pendingHeld = holds.filter((h) => h.status === "pending" && h.account_id === a.id).reduce(
            (s, h) => s + h.amount,
            0,
          );
          assert.equal(b.held, pendingHeld, `held of ${a.name}`);
        }
        assert.equal(net, 0, "debits equal credits");
      }
    }),
    { numRuns: 150 },
  );
  assert.ok(
    seen.accepted > 500 && seen.rejected > 100 && seen.captured > 20 && seen.expired > 5,
    JSON.stringify(seen),
  );
});

Deno.test("LedgerBook: the same key replays the same entry; another payload under it is idempotency_key_reused", () => {
  fc.assert(fc.property(amount, amount, (a, b) => {
    fc.pre(a !== b);
    const book = new LedgerBook({
      accounts: ACCOUNTS,
      balances: new Map(),
      holds: [],
      records: [],
      entries: [],
      reversedEntryIds: new Set(),
      lastSeq: 7,
    }, new Date());
    const post = (n: number): LedgerCommand => ({
      kind: "post_entry",
      idempotency_key: "same",
      postings: [{ account_id: "acc_cash", amount: n, currency: "USD" }, {
        account_id: "acc_revenue",
        amount: -n,
        currency: "USD",
      }],
    });
    const first = book.apply(post(a), `h${a}`);
    const again = book.apply(post(a), `h${a}`);
    const other = book.apply(post(b), `h${b}`);
    assert.ok(first.ok && again.ok && !first.replayed && again.replayed);
    assert.equal(again.value.entry!.id, first.value.entry!.id);
    assert.equal(first.value.entry!.seq, 8);
    assert.ok(!other.ok && other.error.code === "idempotency_key_reused");
    assert.equal(book.changes().entries.length, 1);
  }));
});

// ---- the inventory state machine ----

const subject = fc.constantFrom("s1", "s2", "s3");
const inventoryCommand = fc.oneof(
  fc.record({
    kind: fc.constant("inventory_acquire" as const),
    idempotency_key: key,
    subject,
    item: fc.constant("gem"),
    quantity: fc.integer({ min: -2, max: 20 }),
  }),
  fc.record({
    kind: fc.constant("inventory_consume" as const),
    idempotency_key: key,
    subject,
    item: fc.constant("gem"),
    quantity: fc.integer({ min: 1, max: 20 }),
  }),
  fc.record({
    kind: fc.constant("inventory_transfer" as const),
    idempotency_key: key,
    from: subject,
    to: subject,
    item: fc.constant("gem"),
    quantity: fc.integer({ min: 1, max: 20 }),
  }),
  fc.record({
    kind: fc.constant("inventory_hold" as const),
    idempotency_key: key,
    subject,
    item: fc.constant("gem"),
    quantity: fc.integer({ min: 1, max: 20 }),
    ttl_seconds: fc.integer({ min: 1, max: 60 }),
  }),
  fc.record({
    kind: fc.constantFrom("inventory_commit_ref" as const, "inventory_release_ref" as const),
    index: fc.nat(),
  }),
  fc.record({ kind: fc.constant("tick" as const), seconds: fc.integer({ min: 0, max: 60 }) }),
);

Deno.test("InventoryBook: free ≥ 0, on hold = Σ pending holds, the journal folds to the balances, rejections change nothing", () => {
  fc.assert(
    fc.property(fc.array(inventoryCommand, { minLength: 10, maxLength: 80 }), (commands) => {
      let now = 0;
      let balances: { subject: string; item: string; free: number; on_hold: number }[] = [];
      const holds: NonNullable<ReturnType<InventoryBook["changes"]>["holds"]> = [];
      const operations: InventoryOperation[] = [];
      for (const c of commands) {
        if (c.kind === "tick") {
          now += c.seconds * 1000;
          continue;
        }
        const book = new InventoryBook(
          { balances, holds, operations, lastSeq: operations.length },
          new Date(now),
        );
        book.expireDue();
        let command: InventoryCommand;
        if (c.kind === "inventory_commit_ref" || c.kind === "inventory_release_ref") {
          if (holds.length === 0) continue;
          command = {
            kind: c.kind === "inventory_commit_ref" ? "inventory_commit" : "inventory_release",
            hold_id: holds[c.index % holds.length].id,
          };
        } else command = c as InventoryCommand;
        const before = JSON.stringify(book.changes());
        const outcome = book.apply(command, JSON.stringify(command));
        if (!outcome.ok) {
          assert.equal(JSON.stringify(book.changes()), before, `${outcome.error.code} changed the book`);
          if (command.kind === "inventory_acquire" && command.quantity <= 0) {
            assert.ok(
              ["invalid_quantity", "idempotency_key_reused"].includes(outcome.error.code),
              outcome.error.code,
            );
          }
        }
        const changes = book.changes();
        const byPair = new Map(balances.map((b) => [`${b.subject}|${b.item}`, b]));
        for (const b of changes.balances) byPair.set(`${b.subject}|${b.item}`, b);
        balances = [...byPair.values()];
        for (const h of changes.holds) {
          const i = holds.findIndex((x) => x.id === h.id);
          if (i >= 0) holds[i] = h;
          else holds.push(h);
        }
        operations.push(...changes.operations);
        const folded = foldOperations(operations);
        for (const b of balances) {
          assert.ok(b.free >= 0 && b.on_hold >= 0);
          const pending = holds.filter((h) =>
            h.status === "pending" && h.subject === b.subject && h.item === b.item
          ).reduce((s, h) => s + h.quantity, 0);
          assert.equal(b.on_hold, pending);
          const f = folded.get(`${b.subject}\u0000${b.item}`) ?? { free: 0, on_hold: 0 };
          assert.deepEqual([f.free, f.on_hold], [b.free, b.on_hold]);
        }
      }
    }),
    { numRuns: 150 },
  );
});
