using System.Globalization;

namespace Loyalty.Sdk.Predictive.Cli;

/// <summary>An input file is malformed; <see cref="Line"/> and <see cref="Column"/> say where.</summary>
public sealed class PredictiveInputException : Exception
{
    /// <summary>Creates an exception without location.</summary>
    public PredictiveInputException()
        : base("The predictive input is invalid.")
    {
    }

    /// <summary>Creates an exception with a message and no location.</summary>
    /// <param name="message">The message.</param>
    public PredictiveInputException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message, an inner exception and no location.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public PredictiveInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception pointing at a line and optionally a column of a file.</summary>
    /// <param name="problem">What is wrong, without the location.</param>
    /// <param name="filePath">The file (or source name) being read.</param>
    /// <param name="line">The 1-based line number (the header is line 1).</param>
    /// <param name="column">The 1-based column number, or null when the problem is not in one column (for example a missing column).</param>
    /// <param name="columnName">The column name from the header (or the expected name when it is missing).</param>
    /// <param name="innerException">The cause, if any.</param>
    public PredictiveInputException(string problem, string? filePath, int line, int? column, string? columnName, Exception? innerException = null)
        : base(Format(problem, filePath, line, column, columnName), innerException)
    {
        Problem = problem;
        FilePath = filePath;
        Line = line;
        Column = column;
        ColumnName = columnName;
    }

    /// <summary>The problem description without the location.</summary>
    public string? Problem { get; }

    /// <summary>The file (or source name) that was read.</summary>
    public string? FilePath { get; }

    /// <summary>The 1-based line number (0 when unknown).</summary>
    public int Line { get; }

    /// <summary>The 1-based column number, when the problem is in one column.</summary>
    public int? Column { get; }

    /// <summary>The column name, when known.</summary>
    public string? ColumnName { get; }

    private static string Format(string problem, string? filePath, int line, int? column, string? columnName)
    {
        var where = column is { } c
            ? string.Create(CultureInfo.InvariantCulture, $"line {line}, column {c}")
            : string.Create(CultureInfo.InvariantCulture, $"line {line}");
        if (!string.IsNullOrEmpty(columnName))
        {
            where += $" ({columnName})";
        }

        return string.IsNullOrEmpty(filePath) ? $"{where}: {problem}" : $"{filePath}: {where}: {problem}";
    }
}
