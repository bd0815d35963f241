using Loyalty.Sdk.Ledger;
using Loyalty.Sdk.Storage;
using NodaTime;
using Xunit;
using static Loyalty.Sdk.Testing.Samples;

namespace Loyalty.Sdk.Testing;

/// <summary>The contract of <see cref="ILedgerRepository"/>: versioned customer states, the journal (per customer and
/// global, oldest first, paged), program accounts, command idempotency records, ledger orders and due customers.
/// Anonymization is checked by <see cref="ErasureConformance{TFixture}"/>.</summary>
/// <typeparam name="TFixture">The adapter's fixture.</typeparam>
public abstract class LedgerConformance<TFixture>(TFixture fixture) : ConformanceSuite<TFixture>(fixture)
    where TFixture : class, IStoreConformanceFixture
{
    private static readonly CustomerId Ada = Customer("cus-ada");
    private static readonly CustomerId Bob = Customer("cus-bob");

    private Task SaveAsync(CustomerLedger state, long expected, params LedgerTransfer[] transfers) =>
        WriteAsync(s => s.Ledger.SaveAsync(state, expected, transfers));

    /// <summary>A customer who never had an entry has no state.</summary>
    [Fact]
    public virtual async Task A_customer_without_entries_has_no_state()
    {
        var earn = Earn(Bob, "e1", 10);
        await SaveAsync(State(Bob, [earn]), 0, earn);

        Assert.Null(await ReadAsync(s => s.Ledger.GetAsync(Ada)));
    }

    /// <summary>A new state is stored at version 1 with every part: balances, lots, reservations, earn buckets, tier
    /// status and history, activity and due instants.</summary>
    [Fact]
    public virtual async Task A_new_state_round_trips_at_version_1()
    {
        var (state, transfers) = RichState(Ada);
        await SaveAsync(state, 0, transfers);

        var (expected, _) = RichState(Ada);
        expected.Version = 1;
        Deep.Equal(expected, await ReadAsync(s => s.Ledger.GetAsync(Ada)));
    }

    /// <summary>A save with expected version v stores version v + 1, with the journal growing by the saved transfers.</summary>
    [Fact]
    public virtual async Task A_save_with_expected_version_v_stores_version_v_plus_1()
    {
        var e1 = Earn(Ada, "e1", 100, 1);
        await SaveAsync(State(Ada, [e1]), 0, e1);
        for (var i = 2; i <= 3; i++)
        {
            var n = i;
            await WriteAsync(async s =>
            {
                var state = (await s.Ledger.GetAsync(Ada))!;
                Assert.Equal(n - 1, state.Version);
                var earn = Earn(Ada, $"e{n}", 10 * n, n);
                state.Apply(earn);
                await s.Ledger.SaveAsync(state, state.Version, [earn]);
            });
        }

        var stored = await ReadAsync(s => s.Ledger.GetAsync(Ada));
        Assert.Equal((3L, 150L, 3), (stored!.Version, stored.Balance(Points).Available, stored.Lots.Count));
        Assert.Equal(["e1", "e2", "e3"], (await ReadAsync(s => s.Ledger.ListTransfersAsync(Ada, 0, 10))).Select(t => t.Id));
    }

    /// <summary>Within one session the engine reads a state, saves it with the version it read, reads it again (its
    /// own write) and saves it again with the version it reads then (two events of one customer in a batch): the
    /// commit stores both changes and all their transfers, at the version last read + 1.</summary>
    [Fact]
    public virtual async Task A_state_read_and_saved_twice_in_one_session_keeps_both_changes()
    {
        var e1 = Earn(Ada, "e1", 100, 1);
        await SaveAsync(State(Ada, [e1]), 0, e1);

        long lastRead;
        await using (var session = await OpenAsync())
        {
            var first = (await session.Ledger.GetAsync(Ada))!;
            var e2 = Earn(Ada, "e2", 20, 2);
            first.Apply(e2);
            await session.Ledger.SaveAsync(first, first.Version, [e2]);

            var second = (await session.Ledger.GetAsync(Ada))!;
            Assert.Equal(120, second.Balance(Points).Available);
            lastRead = second.Version;
            var e3 = Earn(Ada, "e3", 3, 3);
            second.Apply(e3);
            await session.Ledger.SaveAsync(second, second.Version, [e3]);
            await session.CommitAsync();
        }

        var stored = await ReadAsync(s => s.Ledger.GetAsync(Ada));
        Assert.Equal((lastRead + 1, 123L), (stored!.Version, stored.Balance(Points).Available));
        Assert.True(stored.Version > 1);
        Assert.Equal(["e1", "e2", "e3"], (await ReadAsync(s => s.Ledger.ListTransfersAsync(Ada, 0, 10))).Select(t => t.Id));
    }

    /// <summary>What <see cref="ILedgerRepository.GetAsync"/> returns is a working copy: changing it without saving it
    /// changes nothing, even when the session commits.</summary>
    [Fact]
    public virtual async Task Changing_the_working_copy_without_saving_it_changes_nothing()
    {
        var e1 = Earn(Ada, "e1", 100);
        await SaveAsync(State(Ada, [e1]), 0, e1);

        await WriteAsync(async s =>
        {
            var copy = (await s.Ledger.GetAsync(Ada))!;
            copy.Apply(Earn(Ada, "e2", 50));
            copy.Tier = new TierStatus { Tier = "gold" };
        });

        var stored = await ReadAsync(s => s.Ledger.GetAsync(Ada));
        Assert.Equal((1L, 100L, (string?)null), (stored!.Version, stored.Balance(Points).Available, stored.Tier.Tier));
    }

    /// <summary>A session reads the state it saved (and a transfer it posted) before committing.</summary>
    [Fact]
    public virtual async Task A_session_reads_its_own_state_and_transfers()
    {
        await using var session = await OpenAsync();
        var e1 = Earn(Ada, "e1", 100);
        await session.Ledger.SaveAsync(State(Ada, [e1]), 0, [e1]);

        Assert.Equal(100, (await session.Ledger.GetAsync(Ada))!.Balance(Points).Available);
        Deep.Equal(e1, await session.Ledger.GetTransferAsync("e1"));
    }

    /// <summary>Transfers round-trip with every field, are found by id, and are listed oldest first per customer
    /// (either side of the transfer) and globally in posting order.</summary>
    [Fact]
    public virtual async Task Transfers_are_journaled_per_customer_on_either_side_and_globally_in_order()
    {
        var a1 = Earn(Ada, "a1", 100, 1);
        var b1 = Earn(Bob, "b1", 70, 2);
        await WriteAsync(async s =>
        {
            await s.Ledger.SaveAsync(State(Ada, [a1]), 0, [a1]);
            await s.Ledger.SaveAsync(State(Bob, [b1]), 0, [b1]);
        });
        var gift = Gift(Ada, Bob, "gift-1", "a1", 30, 3);
        var redeem = Redeem(Bob, "r1", "b1", 20, 4);
        await WriteAsync(async s =>
        {
            var ada = (await s.Ledger.GetAsync(Ada))!;
            var bob = (await s.Ledger.GetAsync(Bob))!;
            ada.Apply(gift);
            bob.Apply(gift);
            bob.Apply(redeem);
            await s.Ledger.SaveAsync(ada, ada.Version, [gift]);
            await s.Ledger.SaveAsync(bob, bob.Version, [redeem]);
        });

        Deep.Equal(gift, await ReadAsync(s => s.Ledger.GetTransferAsync("gift-1")));
        Assert.Null(await ReadAsync(s => s.Ledger.GetTransferAsync("nope")));
        Deep.Equal(new[] { a1, gift }, await ReadAsync(s => s.Ledger.ListTransfersAsync(Ada, 0, 10)));
        Deep.Equal(new[] { b1, gift, redeem }, await ReadAsync(s => s.Ledger.ListTransfersAsync(Bob, 0, 10)));
        Assert.Equal(["a1", "b1", "gift-1", "r1"], (await ReadAsync(s => s.Ledger.ListTransfersAsync(null, 0, 10))).Select(t => t.Id));
        Assert.Empty(await ReadAsync(s => s.Ledger.ListTransfersAsync(Customer("cus-none"), 0, 10)));
    }

    /// <summary>Pages (skip, take) of a customer's journal and of the global journal partition them in order.</summary>
    [Fact]
    public virtual async Task Journal_pages_partition_the_journal_in_order()
    {
        for (var i = 0; i < 12; i++)
        {
            var n = i;
            await WriteAsync(async s =>
            {
                var who = n % 3 == 2 ? Bob : Ada;
                var state = await s.Ledger.GetAsync(who) ?? new CustomerLedger(who);
                var earn = Earn(who, $"t{n:D2}", n + 1, n);
                state.Apply(earn);
                await s.Ledger.SaveAsync(state, state.Version, [earn]);
            });
        }

        async Task<List<string>> PagesAsync(CustomerId? customer, int size)
        {
            var ids = new List<string>();
            for (var skip = 0; ; skip += size)
            {
                var from = skip;
                var page = await ReadAsync(s => s.Ledger.ListTransfersAsync(customer, from, size));
                Assert.True(page.Count <= size);
                ids.AddRange(page.Select(t => t.Id));
                if (page.Count < size)
                {
                    return ids;
                }
            }
        }

        Assert.Equal(Enumerable.Range(0, 12).Select(n => $"t{n:D2}"), await PagesAsync(null, 5));
        Assert.Equal(Enumerable.Range(0, 12).Where(n => n % 3 != 2).Select(n => $"t{n:D2}"), await PagesAsync(Ada, 3));
        Assert.Equal(Enumerable.Range(0, 12).Where(n => n % 3 == 2).Select(n => $"t{n:D2}"), await PagesAsync(Bob, 2));
        Assert.Empty(await ReadAsync(s => s.Ledger.ListTransfersAsync(null, 12, 5)));
    }

    /// <summary>Program accounts add up the program sides of every transfer, by currency and account, across sessions.</summary>
    [Fact]
    public virtual async Task Program_balances_add_up_the_program_side_of_every_transfer()
    {
        var a1 = Earn(Ada, "a1", 100, 1);
        var a2 = Earn(Ada, "a2", 40, 2, "stamps");
        var b1 = Earn(Bob, "b1", 70, 3);
        await WriteAsync(async s =>
        {
            await s.Ledger.SaveAsync(State(Ada, [a1, a2]), 0, [a1, a2]);
            await s.Ledger.SaveAsync(State(Bob, [b1]), 0, [b1]);
        });
        var r1 = Redeem(Ada, "r1", "a1", 25, 4);
        var gift = Gift(Ada, Bob, "g1", "a1", 10, 5);
        await WriteAsync(async s =>
        {
            var ada = (await s.Ledger.GetAsync(Ada))!;
            ada.Apply(r1);
            ada.Apply(gift);
            await s.Ledger.SaveAsync(ada, ada.Version, [r1, gift]);
        });

        var balances = (await ReadAsync(s => s.Ledger.GetProgramBalancesAsync()))
            .Where(b => b.DebitsPosted != 0 || b.CreditsPosted != 0)
            .OrderBy(b => b.Ledger, StringComparer.Ordinal).ThenBy(b => b.Account)
            .ToArray();

        Assert.Equal(
            new[]
            {
                new ProgramAccountBalance(Points, AccountKind.Issuance, 170, 0),
                new ProgramAccountBalance(Points, AccountKind.Redeemed, 0, 25),
                new ProgramAccountBalance("stamps", AccountKind.Issuance, 40, 0),
            },
            balances);
    }

    /// <summary>A command record is found by its idempotency key after commit (and within its session before), with
    /// the command and result as recorded.</summary>
    [Fact]
    public virtual async Task Command_records_are_found_by_idempotency_key()
    {
        await using (var session = await OpenAsync())
        {
            Assert.Null(await session.Ledger.FindCommandAsync("cmd-1"));
            await session.Ledger.AddCommandAsync("cmd-1", Command(Ada, "cmd-1"));
            Deep.Equal(Command(Ada, "cmd-1"), await session.Ledger.FindCommandAsync("cmd-1"));
            await session.CommitAsync();
        }

        var found = await ReadAsync(s => s.Ledger.FindCommandAsync("cmd-1"));
        Deep.Equal(Command(Ada, "cmd-1"), found);
        Assert.Equal(Command(Ada, "cmd-1").Command, found!.Command);
        Assert.Null(await ReadAsync(s => s.Ledger.FindCommandAsync("CMD-1")));
    }

    /// <summary>A key is recorded once: recording a key already recorded by another session is a concurrency conflict
    /// (two retries of one command raced), nothing of the second session is applied, and the first record stays.</summary>
    [Fact]
    public virtual async Task Recording_a_command_key_twice_is_a_concurrency_conflict_and_keeps_the_first()
    {
        await WriteAsync(s => s.Ledger.AddCommandAsync("cmd-1", Command(Ada, "cmd-1", 100)));

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                var earn = Earn(Ada, "e-dup", 999);
                await session.Ledger.SaveAsync(State(Ada, [earn]), 0, [earn]);
                await session.Ledger.AddCommandAsync("cmd-1", Command(Ada, "cmd-1", 999));
                await session.CommitAsync();
            });
        }

        Assert.Equal(100, ((EarnCommand)(await ReadAsync(s => s.Ledger.FindCommandAsync("cmd-1")))!.Command).Points);
        Assert.Null(await ReadAsync(s => s.Ledger.GetAsync(Ada)));
        Assert.Empty(await ReadAsync(s => s.Ledger.ListTransfersAsync(null, 0, 10)));
    }

    /// <summary>Appending a transfer id that is already in the journal is a concurrency conflict (two sessions posted
    /// the same entry) and applies nothing of the session.</summary>
    [Fact]
    public virtual async Task Appending_a_transfer_id_already_in_the_journal_is_a_concurrency_conflict()
    {
        var e1 = Earn(Ada, "e1", 100);
        await SaveAsync(State(Ada, [e1]), 0, e1);

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                var again = Earn(Bob, "e1", 5);
                await session.Ledger.SaveAsync(State(Bob, [again]), 0, [again]);
                await session.CommitAsync();
            });
        }

        Assert.Null(await ReadAsync(s => s.Ledger.GetAsync(Bob)));
        Assert.Equal(Ada, (await ReadAsync(s => s.Ledger.GetTransferAsync("e1")))!.Credit.Customer);
        Assert.Single(await ReadAsync(s => s.Ledger.ListTransfersAsync(null, 0, 10)));
    }

    /// <summary>Ledger orders round-trip at version 1, store version v + 1 on a save with v, and a stale save is a
    /// concurrency conflict that changes nothing.</summary>
    [Fact]
    public virtual async Task Ledger_orders_are_versioned()
    {
        Assert.Null(await ReadAsync(s => s.Ledger.GetOrderAsync("ord-1")));
        await WriteAsync(s => s.Ledger.SaveOrderAsync(LedgerOrder("ord-1", Ada), 0));
        Deep.Equal(LedgerOrder("ord-1", Ada) with { Version = 1 }, await ReadAsync(s => s.Ledger.GetOrderAsync("ord-1")));

        await WriteAsync(s => s.Ledger.SaveOrderAsync(LedgerOrder("ord-1", Ada) with { ClawedBack = 200 }, 1));
        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                await session.Ledger.SaveOrderAsync(LedgerOrder("ord-1", Ada) with { ClawedBack = 999 }, 1);
                await session.CommitAsync();
            });
        }

        var stored = await ReadAsync(s => s.Ledger.GetOrderAsync("ord-1"));
        Assert.Equal((2L, 200L), (stored!.Version, stored.ClawedBack));
    }

    /// <summary>Due customers are those whose state is due at or before now, earliest first, at most <c>take</c>;
    /// states without a due time are never listed, and a re-saved state is listed at its new due time only.</summary>
    [Fact]
    public virtual async Task Due_customers_are_listed_earliest_first_up_to_take()
    {
        var customers = Enumerable.Range(0, 6).Select(i => Customer($"cus-{i}")).ToArray();
        await WriteAsync(async s =>
        {
            await s.Ledger.SaveAsync(State(customers[0], [], At(50)), 0, []);
            await s.Ledger.SaveAsync(State(customers[1], [], At(10)), 0, []);
            await s.Ledger.SaveAsync(State(customers[2], [], null), 0, []);
            await s.Ledger.SaveAsync(State(customers[3], [], At(30)), 0, []);
            await s.Ledger.SaveAsync(State(customers[4], [], At(90)), 0, []);
        });
        await WriteAsync(s => s.Ledger.SaveAsync(State(customers[5], [], At(20)), 0, []));

        Assert.Equal([customers[1], customers[5], customers[3], customers[0]], await ReadAsync(s => s.Ledger.ListDueAsync(At(50), 10)));
        Assert.Equal([customers[1], customers[5]], await ReadAsync(s => s.Ledger.ListDueAsync(At(60), 2)));
        Assert.Empty(await ReadAsync(s => s.Ledger.ListDueAsync(At(9), 10)));

        // Customer 1 is re-saved due later, customer 3 with nothing due.
        await WriteAsync(async s =>
        {
            await s.Ledger.SaveAsync(State(customers[1], [], At(70)), 1, []);
            await s.Ledger.SaveAsync(State(customers[3], [], null), 1, []);
        });

        Assert.Equal([customers[5], customers[0], customers[1]], await ReadAsync(s => s.Ledger.ListDueAsync(At(80), 10)));
    }

    /// <summary>Due work is claimed with leases: a claim leases the due customers it returns (earliest first, at most
    /// <c>take</c>) at once, without a commit; another owner's claim skips them while the lease lives; the owner may
    /// claim its own again; saving a state ends its lease; a lease lapses at its end (a crashed worker's customers are
    /// claimed again).</summary>
    [Fact]
    public virtual async Task Due_customers_are_claimed_with_leases()
    {
        var c = Enumerable.Range(0, 4).Select(i => Customer($"cus-{i}")).ToArray();
        await WriteAsync(async s =>
        {
            await s.Ledger.SaveAsync(State(c[0], [], At(10)), 0, []);
            await s.Ledger.SaveAsync(State(c[1], [], At(20)), 0, []);
            await s.Ledger.SaveAsync(State(c[2], [], At(30)), 0, []);
            await s.Ledger.SaveAsync(State(c[3], [], At(90)), 0, []);
        });
        var lease = Duration.FromMinutes(30);

        Assert.Equal([c[0], c[1]], await ReadAsync(s => s.Ledger.ClaimDueAsync(At(50), 2, lease, "worker-a")));
        Assert.Equal([c[2]], await ReadAsync(s => s.Ledger.ClaimDueAsync(At(50), 10, lease, "worker-b")));
        Assert.Empty(await ReadAsync(s => s.Ledger.ClaimDueAsync(At(60), 10, lease, "worker-c")));
        Assert.Equal([c[0], c[1]], await ReadAsync(s => s.Ledger.ClaimDueAsync(At(60), 10, lease, "worker-a")));

        // Listing ignores leases.
        Assert.Equal([c[0], c[1], c[2]], await ReadAsync(s => s.Ledger.ListDueAsync(At(60), 10)));

        // Worker a saves customer 0 (still due): the lease ends and anyone may claim it.
        await WriteAsync(s => s.Ledger.SaveAsync(State(c[0], [], At(15)), 1, []));
        Assert.Equal([c[0]], await ReadAsync(s => s.Ledger.ClaimDueAsync(At(61), 10, lease, "worker-c")));

        // Worker a's lease on customer 1 (taken at 60) ends at 90, worker b's on 2 (taken at 50) at 80; c's at 91.
        Assert.Equal([c[2]], await ReadAsync(s => s.Ledger.ClaimDueAsync(At(80), 10, lease, "worker-d")));
        Assert.Equal([c[1], c[3]], await ReadAsync(s => s.Ledger.ClaimDueAsync(At(90), 10, lease, "worker-e")));
    }

    /// <summary>Workers claiming and working off due customers at the same time get disjoint sets that together cover
    /// every due customer.</summary>
    [Fact]
    public virtual async Task Concurrent_claims_are_disjoint()
    {
        var customers = Enumerable.Range(0, 120).Select(i => Customer($"cus-{i:D3}")).ToArray();
        await WriteAsync(async s =>
        {
            for (var i = 0; i < customers.Length; i++)
            {
                await s.Ledger.SaveAsync(State(customers[i], [], At(i % 7)), 0, []);
            }
        });

        var lease = Duration.FromMinutes(30);
        var workers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            var mine = new List<CustomerId>();
            while (true)
            {
                var claimed = await ReadAsync(s => s.Ledger.ClaimDueAsync(At(10), 7, lease, $"worker-{w}"));
                if (claimed.Count == 0)
                {
                    return mine;
                }

                // The work: each state is saved with nothing due (checked against version 1, so a customer handed
                // to two workers would make the second save conflict).
                mine.AddRange(claimed);
                await WriteAsync(async s =>
                {
                    foreach (var c in claimed)
                    {
                        await s.Ledger.SaveAsync(State(c, [], null), 1, []);
                    }
                });
            }
        })).ToArray();
        var all = (await Task.WhenAll(workers)).SelectMany(x => x).ToList();

        Assert.Equal(customers.Length, all.Count);
        Assert.Equal(customers.OrderBy(c => c.Value, StringComparer.Ordinal), all.OrderBy(c => c.Value, StringComparer.Ordinal));
    }

    /// <summary>Customers with a state are listed in a stable order, paged: the pages give each customer once, and the
    /// same order on every call.</summary>
    [Fact]
    public virtual async Task Customers_with_a_state_are_listed_in_a_stable_order_paged()
    {
        var customers = new[] { "cus-k", "cus-B", "cus-a", "cus-z", "cus-m", "cus-0", "cus-q" }.Select(Customer).ToArray();
        foreach (var c in customers)
        {
            await WriteAsync(s => s.Ledger.SaveAsync(State(c, [], null), 0, []));
        }

        await WriteAsync(s => s.Ledger.SaveAsync(State(customers[0], [], At(1)), 1, []));

        async Task<List<CustomerId>> AllAsync()
        {
            var all = new List<CustomerId>();
            for (var skip = 0; skip < 20; skip += 3)
            {
                var from = skip;
                all.AddRange(await ReadAsync(s => s.Ledger.ListCustomersAsync(from, 3)));
            }

            return all;
        }

        var first = await AllAsync();
        Assert.Equal(customers.Select(c => c.Value).Order(StringComparer.Ordinal), first.Select(c => c.Value).Order(StringComparer.Ordinal));
        Assert.Equal(first, await AllAsync());
    }

    /// <summary>A stale save of a state is a concurrency conflict: neither the state, nor its transfers, nor the
    /// program accounts change.</summary>
    [Fact]
    public virtual async Task A_stale_state_save_is_a_concurrency_conflict_and_appends_no_transfer()
    {
        var e1 = Earn(Ada, "e1", 100);
        await SaveAsync(State(Ada, [e1]), 0, e1);
        var e2 = Earn(Ada, "e2", 50);
        await WriteAsync(async s =>
        {
            var state = (await s.Ledger.GetAsync(Ada))!;
            state.Apply(e2);
            await s.Ledger.SaveAsync(state, 1, [e2]);
        });

        await using (var session = await OpenAsync())
        {
            await AssertConflictAsync(async () =>
            {
                var stale = Earn(Ada, "e3", 999);
                await session.Ledger.SaveAsync(State(Ada, [e1, stale]), 1, [stale]);
                await session.CommitAsync();
            });
        }

        var stored = await ReadAsync(s => s.Ledger.GetAsync(Ada));
        Assert.Equal((2L, 150L), (stored!.Version, stored.Balance(Points).Available));
        Assert.Null(await ReadAsync(s => s.Ledger.GetTransferAsync("e3")));
        Assert.Equal(["e1", "e2"], (await ReadAsync(s => s.Ledger.ListTransfersAsync(null, 0, 10))).Select(t => t.Id));
        Assert.Equal(150, (await ReadAsync(s => s.Ledger.GetProgramBalancesAsync())).Single(b => b.Account == AccountKind.Issuance).DebitsPosted);
    }
}
