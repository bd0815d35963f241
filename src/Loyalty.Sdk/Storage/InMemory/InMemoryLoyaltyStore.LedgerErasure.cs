using Loyalty.Sdk.Ledger;

namespace Loyalty.Sdk.Storage.InMemory;

// GDPR erasure of the ledger: the customer's states, journal entries, orders and command records are re-keyed to the
// pseudonym (buffered, applied on commit after the session's other ledger writes), so the program accounts reconcile.
public sealed partial class InMemoryLoyaltyStore
{
    internal sealed partial class InMemoryLedgerPart
    {
        private readonly List<(CustomerId[] Customers, CustomerId Pseudonym)> anonymizations = [];

        public ValueTask AnonymizeAsync(IReadOnlyList<CustomerId> customers, CustomerId pseudonym, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(customers);
            if (customers.Contains(pseudonym))
            {
                throw new ArgumentException("The pseudonym cannot be one of the customers.", nameof(pseudonym));
            }

            anonymizations.Add(([.. customers.Distinct()], pseudonym));
            return ValueTask.CompletedTask;
        }

        private void ApplyAnonymizations()
        {
            foreach (var (customers, pseudonym) in anonymizations)
            {
                new LedgerAnonymizer(customers, pseudonym).Apply(data);
            }
        }
    }

    /// <summary>Re-keys one customer (and the ids merged into it) to a pseudonym in the ledger data.</summary>
    internal sealed class LedgerAnonymizer
    {
        private readonly CustomerId[] customers;
        private readonly CustomerId pseudonym;
        private readonly (string From, string To)[] aliases;

        public LedgerAnonymizer(CustomerId[] customers, CustomerId pseudonym)
        {
            this.customers = customers;
            this.pseudonym = pseudonym;
            aliases = [.. customers.Select((c, i) => (c.Value, i == 0 ? pseudonym.Value : $"{pseudonym.Value}.{i}")).OrderByDescending(a => a.Value.Length)];
        }

        public void Apply(LedgerData data)
        {
            // The journal: entries on either side of the customers name the pseudonym.
            var positions = new SortedSet<int>();
            foreach (var c in customers.Append(pseudonym))
            {
                if (data.ByCustomer.Remove(c, out var list))
                {
                    positions.UnionWith(list);
                }
            }

            foreach (var i in positions)
            {
                var old = data.Journal[i];
                var t = Transfer(old);
                data.Journal[i] = t;
                if (!string.Equals(old.Id, t.Id, StringComparison.Ordinal))
                {
                    data.TransferIndex.Remove(old.Id);
                    data.TransferIndex[t.Id] = i;
                }
            }

            if (positions.Count > 0)
            {
                data.ByCustomer[pseudonym] = [.. positions];
            }

            // Counterparties (member transfers): a lot or reservation named after a re-keyed transfer follows the new id.
            foreach (var other in positions.SelectMany(i => new[] { data.Journal[i].Debit.Customer, data.Journal[i].Credit.Customer }).OfType<CustomerId>().Where(c => c != pseudonym).Distinct().ToArray())
            {
                if (data.States.TryGetValue(other, out var state) && Scrub(state))
                {
                    state.Version++;
                }
            }

            // The hot states become one state of the pseudonym (balances add up: a merge moved the absorbed ids' points).
            var states = customers.Append(pseudonym).Select(c => data.States.GetValueOrDefault(c)).OfType<CustomerLedger>().ToArray();
            if (states.Length > 0)
            {
                var merged = new CustomerLedger(pseudonym) { Version = states.Max(s => s.Version) + 1 };
                var main = states[0];
                merged.Tier = main.Tier with { Override = main.Tier.Override is { } o ? o with { Note = null } : null };
                merged.TierHistory.AddRange(main.TierHistory.Select(c => c with { Rule = Rename(c.Rule)!, CommandKey = Rename(c.CommandKey) }));
                foreach (var s in states)
                {
                    foreach (var b in s.Balances)
                    {
                        var i = merged.Balances.FindIndex(x => string.Equals(x.Ledger, b.Ledger, StringComparison.Ordinal));
                        if (i < 0)
                        {
                            merged.Balances.Add(b);
                        }
                        else
                        {
                            var m = merged.Balances[i];
                            merged.Balances[i] = m with
                            {
                                Available = m.Available + b.Available, Pending = m.Pending + b.Pending, Reserved = m.Reserved + b.Reserved,
                                LifetimeEarned = m.LifetimeEarned + b.LifetimeEarned, Debt = m.Debt + b.Debt, Owed = m.Owed + b.Owed,
                            };
                        }
                    }

                    merged.Lots.AddRange(s.Lots.Select(l => l with { Id = Rename(l.Id)!, OrderId = Rename(l.OrderId) }));
                    merged.EarnBuckets.AddRange(s.EarnBuckets);
                    merged.ManualEarnBuckets.AddRange(s.ManualEarnBuckets);
                    foreach (var r in s.Reservations.Values)
                    {
                        var copy = new LedgerReservation
                        {
                            Id = Rename(r.Id)!, Ledger = r.Ledger, OrderId = Rename(r.OrderId), CreatedAt = r.CreatedAt, ExpiresAt = r.ExpiresAt,
                            Amount = r.Amount, Captured = r.Captured, Released = r.Released,
                        };
                        foreach (var (lot, points) in r.Held)
                        {
                            copy.Held[Rename(lot)!] = points;
                        }

                        merged.Reservations[copy.Id] = copy;
                    }

                    merged.LastActivityAt = Max(merged.LastActivityAt, s.LastActivityAt);
                    merged.InactivityExpiresAt = Max(merged.InactivityExpiresAt, s.InactivityExpiresAt);
                    merged.NoticedThrough = Max(merged.NoticedThrough, s.NoticedThrough);
                    merged.NextDueAt = merged.NextDueAt is null ? s.NextDueAt : s.NextDueAt is null ? merged.NextDueAt : NodaTime.Instant.Min(merged.NextDueAt.Value, s.NextDueAt.Value);
                }

                foreach (var c in customers.Append(pseudonym))
                {
                    data.States.Remove(c);
                    if (data.DueOf.Remove(c, out var due))
                    {
                        data.Due.Remove((due, c));
                    }
                }

                var at = data.CustomerOrder.FindIndex(c => customers.Contains(c) || c == pseudonym);
                data.CustomerOrder.RemoveAll(c => customers.Contains(c) || c == pseudonym);
                data.CustomerOrder.Insert(at < 0 ? data.CustomerOrder.Count : Math.Min(at, data.CustomerOrder.Count), pseudonym);
                data.States[pseudonym] = merged;
                if (merged.NextDueAt is { } next)
                {
                    data.DueOf[pseudonym] = next;
                    data.Due.Add((next, pseudonym));
                }
            }

            // Orders earned on.
            foreach (var (id, order) in data.Orders.Where(kv => customers.Contains(kv.Value.Customer)).ToArray())
            {
                data.Orders[id] = order with { Customer = pseudonym, Lots = [.. order.Lots.Select(l => Rename(l)!)] };
            }

            // Command records: the command and its result name the pseudonym; free text is dropped.
            foreach (var (key, record) in data.Commands.Where(kv => Concerns(kv.Value)).ToArray())
            {
                data.Commands.Remove(key);
                data.Commands[Rename(key)!] = new LedgerCommandRecord(Command(record.Command), Result(record.Result));
            }
        }

        private bool Scrub(CustomerLedger state)
        {
            var changed = false;
            for (var i = 0; i < state.Lots.Count; i++)
            {
                var lot = state.Lots[i];
                if (!string.Equals(Rename(lot.Id), lot.Id, StringComparison.Ordinal))
                {
                    state.Lots[i] = lot with { Id = Rename(lot.Id)! };
                    changed = true;
                }
            }

            foreach (var r in state.Reservations.Values)
            {
                foreach (var lot in r.Held.Keys.Where(k => !string.Equals(Rename(k), k, StringComparison.Ordinal)).ToArray())
                {
                    r.Held.Remove(lot, out var points);
                    r.Held[Rename(lot)!] = points;
                    changed = true;
                }
            }

            return changed;
        }

        private bool Concerns(LedgerCommandRecord record) =>
            customers.Contains(record.Command.Customer) || customers.Contains(record.Result.Customer) || (record.Command is TransferPointsCommand t && customers.Contains(t.To))
            || record.Result.Transfers.Any(t => Is(t.Debit.Customer) || Is(t.Credit.Customer));

        private bool Is(CustomerId? c) => c is { } id && customers.Contains(id);

        private CustomerId Key(CustomerId c) => customers.Contains(c) ? pseudonym : c;

        private LedgerAccount Account(LedgerAccount a) => a.Customer is { } c ? a with { Customer = Key(c) } : a;

        private string? Rename(string? value)
        {
            if (value is null)
            {
                return null;
            }

            foreach (var (from, to) in aliases)
            {
                value = value.Replace(from, to, StringComparison.Ordinal);
            }

            return value;
        }

        private LedgerTransfer Transfer(LedgerTransfer t) => t with
        {
            Id = Rename(t.Id)!,
            Debit = Account(t.Debit),
            Credit = Account(t.Credit),
            DebitLot = Rename(t.DebitLot),
            CreditLot = Rename(t.CreditLot),
            ReservationId = Rename(t.ReservationId),
            Reason = t.Reason with
            {
                CommandKey = Rename(t.Reason.CommandKey)!,
                OrderId = Rename(t.Reason.OrderId),
                MergeId = Rename(t.Reason.MergeId),
                Reverses = Rename(t.Reason.Reverses),
                // Notes may be free text of a command (a manual entry, a gift): the kind, rule and amounts explain the entry.
                Note = null,
            },
        };

        private LedgerCommand Command(LedgerCommand command)
        {
            var c = command with { IdempotencyKey = Rename(command.IdempotencyKey)!, Customer = Key(command.Customer), Note = null };
            return c switch
            {
                TransferPointsCommand t => t with { To = Key(t.To) },
                ReverseCommand r => r with { TransferId = Rename(r.TransferId)! },
                ExpireLotCommand e => e with { LotId = Rename(e.LotId)! },
                ReserveCommand r => r with { ReservationId = Rename(r.ReservationId)!, OrderId = Rename(r.OrderId) },
                CaptureCommand x => x with { ReservationId = Rename(x.ReservationId)! },
                ReleaseCommand x => x with { ReservationId = Rename(x.ReservationId)! },
                _ => c,
            };
        }

        private LedgerResult Result(LedgerResult result) => result with
        {
            IdempotencyKey = Rename(result.IdempotencyKey)!,
            Customer = Key(result.Customer),
            Transfers = [.. result.Transfers.Select(t => Is(t.Debit.Customer) || Is(t.Credit.Customer) ? Transfer(t) : t)],
            Signals = [.. result.Signals.Select(s => customers.Contains(s.Customer) ? s with { Customer = pseudonym, Key = Rename(s.Key)! } : s)],
        };

        private static NodaTime.Instant? Max(NodaTime.Instant? a, NodaTime.Instant? b) => a is null ? b : b is null ? a : NodaTime.Instant.Max(a.Value, b.Value);
    }
}
