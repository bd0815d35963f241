using NodaTime;

namespace Loyalty.Sdk.Ledger;

/// <summary>
/// What the engine decided for one command: the entries it wrote (already applied to the states it was given, in
/// order), the signals it raised and any clawback shortfall. Entries are deterministic given the state, the command
/// and the instant.
/// </summary>
public sealed class LedgerPosting
{
    private readonly List<LedgerTransfer> transfers = new(1);
    private List<LedgerSignal>? signals;

    // The states the entries are applied to: one (most commands) or two (member transfers, merges), without an array.
    private readonly CustomerLedger first;
    private readonly CustomerLedger? second;
    private int counter;

    internal LedgerPosting(string key, Instant now, LocalDate bookingDate, CustomerLedger state, CustomerLedger? other = null)
    {
        Key = key;
        Now = now;
        BookingDate = bookingDate;
        first = state;
        second = other;
    }

    /// <summary>The command's idempotency key (prefix of every entry id).</summary>
    public string Key { get; }

    /// <summary>The instant.</summary>
    public Instant Now { get; }

    /// <summary>The booking day in the program's time zone.</summary>
    public LocalDate BookingDate { get; }

    /// <summary>The entries, in order.</summary>
    public IReadOnlyList<LedgerTransfer> Transfers => transfers;

    /// <summary>Signals raised.</summary>
    public IReadOnlyList<LedgerSignal> Signals => (IReadOnlyList<LedgerSignal>?)signals ?? [];

    /// <summary>Points a clawback could not collect.</summary>
    public long Shortfall { get; internal set; }

    /// <summary>Points a cap kept an earn command from granting.</summary>
    public long Capped { get; internal set; }

    /// <summary>Whether the tier changed.</summary>
    public bool TierChanged { get; internal set; }

    internal string NextId(string? suffix = null) => suffix is not null ? string.Concat(Key, "#", suffix)
        : counter < Digits.Length ? string.Concat(Key, Digits[counter++]) : $"{Key}#{counter++}";

    private static readonly string[] Digits = ["#0", "#1", "#2", "#3", "#4", "#5", "#6", "#7", "#8", "#9"];

    /// <summary>A transfer of this posting, with the next id and the posting's instant and booking date.</summary>
    internal LedgerTransfer Transfer(
        string ledger, LedgerAccount debit, LedgerAccount credit, long amount, TransferKind kind, LedgerReason reason,
        string? debitLot = null, string? creditLot = null, string? reservationId = null) => new()
    {
        Id = NextId(),
        Ledger = ledger,
        Debit = debit,
        Credit = credit,
        Amount = amount,
        Kind = kind,
        At = Now,
        BookingDate = BookingDate,
        Reason = reason,
        DebitLot = debitLot,
        CreditLot = creditLot,
        ReservationId = reservationId,
    };

    internal LedgerTransfer Post(LedgerTransfer transfer)
    {
        first.Apply(transfer);
        second?.Apply(transfer);

        transfers.Add(transfer);
        return transfer;
    }

    internal void Signal(LedgerSignal signal) => (signals ??= []).Add(signal);
}
