namespace Loyalty.Sdk.Identity.Matching.Csv;

/// <summary>A delimited record file is malformed: where and why.</summary>
public sealed class RecordFileFormatException : FormatException
{
    /// <summary>Creates an exception with no location.</summary>
    public RecordFileFormatException()
    {
    }

    /// <summary>Creates an exception with a message and no location.</summary>
    /// <param name="message">The message.</param>
    public RecordFileFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message, no location and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public RecordFileFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception at a location.</summary>
    /// <param name="source">The file (or other source) name.</param>
    /// <param name="line">1-based physical line number.</param>
    /// <param name="column">1-based column (field) number, or null when the problem is not in one column.</param>
    /// <param name="reason">What is wrong.</param>
    public RecordFileFormatException(string? source, int line, int? column, string reason)
        : base($"{source ?? "input"}: line {line}{(column is { } c ? $", column {c}" : string.Empty)}: {reason}")
    {
        SourceName = source;
        Line = line;
        Column = column;
        Reason = reason;
    }

    /// <summary>The file (or other source) name.</summary>
    public string? SourceName { get; }

    /// <summary>1-based physical line number.</summary>
    public int Line { get; }

    /// <summary>1-based column (field) number, or null when the problem is not tied to one column.</summary>
    public int? Column { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string? Reason { get; }
}
