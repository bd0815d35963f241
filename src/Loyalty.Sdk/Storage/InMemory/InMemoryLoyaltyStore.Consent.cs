using System.Collections.Concurrent;
using Loyalty.Sdk.Consent;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Validation;
using NodaTime;

namespace Loyalty.Sdk.Storage.InMemory;

public sealed partial class InMemoryLoyaltyStore
{
    internal sealed partial class InMemorySession
    {
        public IConsentRepository Consent => Part(d => new InMemoryConsentPart(d.Extension<ConsentData>()));
    }

    /// <summary>The consent data of one tenant.</summary>
    internal sealed class ConsentData
    {
        public Dictionary<CustomerId, List<ConsentRecord>> Records { get; } = [];

        public long Sequence { get; set; }

        public Dictionary<CustomerId, List<SuppressionEntry>> Suppressions { get; } = [];

        public Dictionary<string, List<AddressSuppression>> Addresses { get; } = new(StringComparer.Ordinal);

        public Dictionary<CustomerId, PreferenceSettings> Preferences { get; } = [];

        public ConcurrentDictionary<CustomerId, SendLogData> Sends { get; } = new();

        public Dictionary<(LocalDate Week, SendVerdict Verdict, SendReasonCode Reason), long> Outcomes { get; } = [];
    }

    /// <summary>One customer's send log; <see cref="Gate"/> makes compare-and-swap atomic.</summary>
    internal sealed class SendLogData
    {
        public object Gate { get; } = new();

        public List<SendRecord> Sends { get; } = [];

        public long Version { get; set; }
    }

    /// <summary>
    /// The consent part of a session: copy-on-write per customer for records, suppressions and preferences (applied
    /// on commit), immediate compare-and-swap for the send log.
    /// </summary>
    internal sealed class InMemoryConsentPart(ConsentData data) : IInMemoryPart, IConsentRepository
    {
        private readonly Dictionary<CustomerId, List<ConsentRecord>> records = [];
        private readonly Dictionary<CustomerId, List<SuppressionEntry>> suppressions = [];
        private readonly List<AddressSuppression> addresses = [];
        private readonly Dictionary<CustomerId, (PreferenceSettings? Value, long Expected)> preferences = [];
        private readonly Dictionary<(LocalDate, SendVerdict, SendReasonCode), long> outcomes = [];
        private readonly HashSet<CustomerId> erasedSendLogs = [];
        private long sequence = -1;

        public ValueTask<IReadOnlyList<ConsentRecord>> GetHistoryAsync(CustomerId customer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<IReadOnlyList<ConsentRecord>>(ReadRecords(customer).ToArray());

        public ValueTask AppendAsync(ConsentRecord record, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(record);
            if (sequence < 0)
            {
                sequence = data.Sequence;
            }

            WriteRecords(record.Customer).Add(record with { Sequence = ++sequence });
            return ValueTask.CompletedTask;
        }

        public ValueTask MoveAsync(CustomerId from, CustomerId to, CancellationToken cancellationToken = default)
        {
            var moved = WriteRecords(from);
            WriteRecords(to).AddRange(moved.Select(r => r with { Customer = to, OriginalCustomer = r.OriginalCustomer ?? r.Customer }));
            moved.Clear();
            var entries = WriteSuppressions(from);
            var target = WriteSuppressions(to);
            foreach (var e in entries)
            {
                if (!target.Exists(x => x.List == e.List && x.Channel == e.Channel))
                {
                    target.Add(e with { Customer = to });
                }
            }

            entries.Clear();
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<SuppressionEntry>> GetSuppressionsAsync(CustomerId customer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<IReadOnlyList<SuppressionEntry>>((suppressions.TryGetValue(customer, out var own) ? own : data.Suppressions.GetValueOrDefault(customer) ?? []).ToArray());

        public ValueTask AddSuppressionAsync(SuppressionEntry entry, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(entry);
            var list = WriteSuppressions(entry.Customer);
            if (!list.Exists(x => x.List == entry.List && x.Channel == entry.Channel))
            {
                list.Add(entry);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask RemoveSuppressionAsync(CustomerId customer, SuppressionList list, ContactChannel? channel, CancellationToken cancellationToken = default)
        {
            WriteSuppressions(customer).RemoveAll(x => x.List == list && x.Channel == channel);
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<AddressSuppression>> GetAddressSuppressionsAsync(string addressHash, CancellationToken cancellationToken = default)
        {
            var stored = data.Addresses.GetValueOrDefault(addressHash) ?? [];
            return ValueTask.FromResult<IReadOnlyList<AddressSuppression>>(stored.Concat(addresses.Where(a => a.AddressHash == addressHash)).ToArray());
        }

        public ValueTask AddAddressSuppressionAsync(AddressSuppression entry, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(entry);
            addresses.Add(entry);
            return ValueTask.CompletedTask;
        }

        public ValueTask<PreferenceSettings?> GetPreferencesAsync(CustomerId customer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(preferences.TryGetValue(customer, out var p) ? p.Value : data.Preferences.GetValueOrDefault(customer));

        public ValueTask SavePreferencesAsync(PreferenceSettings preferences, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(preferences);
            var first = this.preferences.TryGetValue(preferences.Customer, out var pending) ? pending.Expected : expectedVersion;
            this.preferences[preferences.Customer] = (preferences with { Version = expectedVersion + 1 }, first);
            return ValueTask.CompletedTask;
        }

        public ValueTask<SendLog> GetSendLogAsync(CustomerId customer, CancellationToken cancellationToken = default)
        {
            if (!data.Sends.TryGetValue(customer, out var log))
            {
                return ValueTask.FromResult(new SendLog([], 0));
            }

            lock (log.Gate)
            {
                return ValueTask.FromResult(new SendLog(log.Sends.ToArray(), log.Version));
            }
        }

        public ValueTask<bool> TryAppendSendAsync(SendRecord send, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(send);
            var log = data.Sends.GetOrAdd(send.Customer, _ => new SendLogData());
            lock (log.Gate)
            {
                if (log.Version != expectedVersion || log.Sends.Exists(s => s.MessageId == send.MessageId))
                {
                    return ValueTask.FromResult(false);
                }

                log.Sends.Add(send);
                log.Version++;
                return ValueTask.FromResult(true);
            }
        }

        public ValueTask<bool> RemoveSendAsync(CustomerId customer, string messageId, CancellationToken cancellationToken = default)
        {
            if (!data.Sends.TryGetValue(customer, out var log))
            {
                return ValueTask.FromResult(false);
            }

            lock (log.Gate)
            {
                var removed = log.Sends.RemoveAll(s => s.MessageId == messageId) > 0;
                if (removed)
                {
                    log.Version++;
                }

                return ValueTask.FromResult(removed);
            }
        }

        public ValueTask<IReadOnlyList<SendRecord>> ListSendsAsync(Instant from, Instant to, CancellationToken cancellationToken = default)
        {
            var result = new List<SendRecord>();
            foreach (var log in data.Sends.Values)
            {
                lock (log.Gate)
                {
                    result.AddRange(log.Sends.Where(s => s.SentAt >= from && s.SentAt < to));
                }
            }

            return ValueTask.FromResult<IReadOnlyList<SendRecord>>(result);
        }

        public ValueTask CountOutcomeAsync(LocalDate weekStart, SendVerdict verdict, SendReasonCode reason, CancellationToken cancellationToken = default)
        {
            outcomes[(weekStart, verdict, reason)] = outcomes.GetValueOrDefault((weekStart, verdict, reason)) + 1;
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<GateOutcomeCount>> ListOutcomesAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken = default)
        {
            var merged = new Dictionary<(LocalDate, SendVerdict, SendReasonCode), long>(data.Outcomes);
            foreach (var (key, n) in outcomes)
            {
                merged[key] = merged.GetValueOrDefault(key) + n;
            }

            IReadOnlyList<GateOutcomeCount> result = merged.Where(kv => kv.Key.Item1 >= from && kv.Key.Item1 < to)
                .OrderBy(kv => kv.Key.Item1).ThenBy(kv => kv.Key.Item2).ThenBy(kv => kv.Key.Item3)
                .Select(kv => new GateOutcomeCount(kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, kv.Value)).ToArray();
            return ValueTask.FromResult(result);
        }

        public ValueTask EraseCustomerAsync(CustomerId customer, CustomerId pseudonym, CancellationToken cancellationToken = default)
        {
            var own = WriteRecords(customer);
            WriteRecords(pseudonym).AddRange(own.Select(r => r with
            {
                Customer = pseudonym,
                OriginalCustomer = null,
                Evidence = null,
                Source = null,
                Actor = "erased",
                CausedBy = null,
            }));
            own.Clear();
            WriteSuppressions(customer).Clear();
            var stored = preferences.TryGetValue(customer, out var p) ? p.Expected : data.Preferences.GetValueOrDefault(customer)?.Version ?? 0;
            preferences[customer] = (null, stored);
            erasedSendLogs.Add(customer);
            return ValueTask.CompletedTask;
        }

        public void Validate()
        {
            foreach (var (id, (_, expected)) in preferences)
            {
                InMemorySession.CheckVersion(data.Preferences.TryGetValue(id, out var stored) ? stored.Version : 0, expected, $"preferences of {id}");
            }
        }

        public void Apply()
        {
            foreach (var (id, list) in records)
            {
                if (list.Count == 0)
                {
                    data.Records.Remove(id);
                }
                else
                {
                    data.Records[id] = list;
                }
            }

            if (sequence > data.Sequence)
            {
                data.Sequence = sequence;
            }

            foreach (var (id, list) in suppressions)
            {
                if (list.Count == 0)
                {
                    data.Suppressions.Remove(id);
                }
                else
                {
                    data.Suppressions[id] = list;
                }
            }

            foreach (var a in addresses)
            {
                if (!data.Addresses.TryGetValue(a.AddressHash, out var list))
                {
                    data.Addresses[a.AddressHash] = list = [];
                }

                if (!list.Exists(x => x.List == a.List && x.Channel == a.Channel))
                {
                    list.Add(a);
                }
            }

            foreach (var (id, (value, _)) in preferences)
            {
                if (value is null)
                {
                    data.Preferences.Remove(id);
                }
                else
                {
                    data.Preferences[id] = value;
                }
            }

            foreach (var (key, n) in outcomes)
            {
                data.Outcomes[key] = data.Outcomes.GetValueOrDefault(key) + n;
            }

            foreach (var id in erasedSendLogs)
            {
                data.Sends.TryRemove(id, out _);
            }
        }

        public void Clear()
        {
            records.Clear();
            suppressions.Clear();
            addresses.Clear();
            preferences.Clear();
            outcomes.Clear();
            erasedSendLogs.Clear();
            sequence = -1;
        }

        private IEnumerable<ConsentRecord> ReadRecords(CustomerId customer) =>
            records.TryGetValue(customer, out var own) ? own : data.Records.GetValueOrDefault(customer) ?? (IEnumerable<ConsentRecord>)[];

        private List<ConsentRecord> WriteRecords(CustomerId customer)
        {
            if (!records.TryGetValue(customer, out var list))
            {
                records[customer] = list = [.. data.Records.GetValueOrDefault(customer) ?? []];
            }

            return list;
        }

        private List<SuppressionEntry> WriteSuppressions(CustomerId customer)
        {
            if (!suppressions.TryGetValue(customer, out var list))
            {
                suppressions[customer] = list = [.. data.Suppressions.GetValueOrDefault(customer) ?? []];
            }

            return list;
        }
    }
}
