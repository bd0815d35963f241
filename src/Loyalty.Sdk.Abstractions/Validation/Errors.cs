namespace Loyalty.Sdk.Validation;

/// <summary>One problem found in input: where it is (a JSON path such as <c>$.lines[0].quantity</c>, and the line and
/// column in the source when known), a stable code, and a message for people.</summary>
/// <param name="Path">JSON path of the offending field.</param>
/// <param name="Code">Stable machine-readable code, e.g. <c>required</c>, <c>negative</c>, <c>invalid_currency</c>.</param>
/// <param name="Message">What is wrong, for people.</param>
public sealed record ValidationError(string Path, string Code, string Message)
{
    /// <summary>1-based line in the source document or NDJSON file, when known.</summary>
    public long? Line { get; init; }

    /// <summary>1-based column (byte position in the line plus one), when known.</summary>
    public long? Column { get; init; }

    /// <inheritdoc />
    public override string ToString()
    {
        var where = Line is { } l ? (Column is { } c ? $"{l}:{c}: " : $"{l}: ") : string.Empty;
        return $"{where}{Path}: {Message} ({Code})";
    }
}

/// <summary>Base class of every error the SDK raises on purpose.</summary>
public class LoyaltyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LoyaltyException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public LoyaltyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public LoyaltyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Input was refused: every problem is listed, and nothing of the input was applied.</summary>
public class LoyaltyValidationException : LoyaltyException
{
    /// <summary>Creates the exception from the problems found.</summary>
    public LoyaltyValidationException(IReadOnlyList<ValidationError> errors)
        : base(Describe(errors))
    {
        Errors = errors;
    }

    /// <summary>Creates the exception from a message (no field).</summary>
    public LoyaltyValidationException(string message)
        : base(message)
    {
        Errors = [new ValidationError("$", "invalid", message)];
    }

    /// <summary>Creates the exception.</summary>
    public LoyaltyValidationException()
        : this("Invalid input.")
    {
    }

    /// <summary>Creates the exception from a message and a cause.</summary>
    public LoyaltyValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [new ValidationError("$", "invalid", message)];
    }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<ValidationError> Errors { get; }

    private static string Describe(IReadOnlyList<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return errors.Count switch
        {
            0 => "Invalid input.",
            1 => errors[0].ToString(),
            _ => $"{errors.Count} problems: " + string.Join("; ", errors.Select(e => e.ToString())),
        };
    }
}

/// <summary>An event was refused by validation; nothing of it was applied.</summary>
public sealed class EventValidationException : LoyaltyValidationException
{
    /// <summary>Creates the exception.</summary>
    public EventValidationException(IReadOnlyList<ValidationError> errors)
        : base(errors)
    {
    }

    /// <summary>Creates the exception.</summary>
    public EventValidationException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public EventValidationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public EventValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A program definition was refused; every problem is listed by path.</summary>
public sealed class ProgramValidationException : LoyaltyValidationException
{
    /// <summary>Creates the exception.</summary>
    public ProgramValidationException(IReadOnlyList<ValidationError> errors)
        : base(errors)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ProgramValidationException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ProgramValidationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ProgramValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A write lost an optimistic-concurrency race: the stored version was not the expected one.</summary>
public sealed class ConcurrencyConflictException : LoyaltyException
{
    /// <summary>Creates the exception.</summary>
    public ConcurrencyConflictException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConcurrencyConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConcurrencyConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
