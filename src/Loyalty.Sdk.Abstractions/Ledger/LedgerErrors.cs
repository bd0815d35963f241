using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.Ledger;

/// <summary>A ledger command was refused; nothing of it was applied. <see cref="Code"/> is stable.</summary>
public class LedgerException : LoyaltyException
{
    /// <summary>Creates the exception.</summary>
    public LedgerException(string code, string message)
        : base(message) => Code = code;

    /// <summary>Creates the exception.</summary>
    public LedgerException()
        : this("ledger_error", "The ledger refused the command.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public LedgerException(string message)
        : this("ledger_error", message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LedgerException(string message, Exception innerException)
        : base(message, innerException) => Code = "ledger_error";

    /// <summary>Stable machine-readable code, e.g. <c>insufficient_points</c>.</summary>
    public string Code { get; }
}

/// <summary>A command's input is invalid (zero or negative amount, unknown currency, currency mismatch...); every
/// problem is listed with its path.</summary>
public sealed class LedgerValidationException : LoyaltyValidationException
{
    /// <summary>Creates the exception.</summary>
    public LedgerValidationException(IReadOnlyList<ValidationError> errors)
        : base(errors)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LedgerValidationException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public LedgerValidationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LedgerValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Not enough available points.</summary>
public sealed class InsufficientPointsException : LedgerException
{
    /// <summary>Creates the exception.</summary>
    public InsufficientPointsException(string ledger, long requested, long available)
        : base("insufficient_points", $"{requested} {ledger} requested, {available} available.")
    {
        Requested = requested;
        Available = available;
    }

    /// <summary>Creates the exception.</summary>
    public InsufficientPointsException()
        : base("insufficient_points", "Not enough points.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public InsufficientPointsException(string message)
        : base("insufficient_points", message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public InsufficientPointsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Points asked for.</summary>
    public long Requested { get; }

    /// <summary>Points available.</summary>
    public long Available { get; }
}

/// <summary>The idempotency key was used before for a different command.</summary>
public sealed class IdempotencyConflictException : LedgerException
{
    /// <summary>Creates the exception.</summary>
    public IdempotencyConflictException(string key)
        : base("idempotency_conflict", $"Idempotency key '{key}' was already used for a different command.") => Key = key;

    /// <summary>Creates the exception.</summary>
    public IdempotencyConflictException()
        : base("idempotency_conflict", "The idempotency key was already used for a different command.") => Key = string.Empty;

    /// <summary>Creates the exception.</summary>
    public IdempotencyConflictException(string key, Exception innerException)
        : base(key, innerException) => Key = key;

    /// <summary>The key.</summary>
    public string Key { get; }
}

/// <summary>An account, lot, reservation, transfer or currency the command names does not exist.</summary>
public sealed class UnknownLedgerEntityException : LedgerException
{
    /// <summary>Creates the exception.</summary>
    public UnknownLedgerEntityException(string what, string id)
        : base("unknown_" + what, $"No {what} '{id}'.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public UnknownLedgerEntityException()
        : base("unknown", "Unknown ledger entity.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public UnknownLedgerEntityException(string message)
        : base("unknown", message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public UnknownLedgerEntityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A reservation can no longer be captured or released (expired, closed, or capture above what it holds).</summary>
public sealed class ReservationStateException : LedgerException
{
    /// <summary>Creates the exception.</summary>
    public ReservationStateException(string code, string message)
        : base(code, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ReservationStateException()
        : base("reservation_state", "The reservation cannot do that.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ReservationStateException(string message)
        : base("reservation_state", message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ReservationStateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>An amount would overflow a 64-bit point count.</summary>
public sealed class LedgerOverflowException : LedgerException
{
    /// <summary>Creates the exception.</summary>
    public LedgerOverflowException()
        : base("overflow", "The amount overflows the ledger's 64-bit point counts.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public LedgerOverflowException(string message)
        : base("overflow", message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LedgerOverflowException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
