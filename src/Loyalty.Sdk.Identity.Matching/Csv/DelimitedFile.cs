using System.Collections.Immutable;
using System.Text;

namespace Loyalty.Sdk.Identity.Matching.Csv;

/// <summary>One data row of a delimited file.</summary>
/// <param name="Line">1-based physical line on which the row starts.</param>
/// <param name="Values">The field values (unquoted, surrounding whitespace of unquoted fields removed).</param>
public sealed record DelimitedRow(int Line, ImmutableArray<string> Values);

/// <summary>A header and rows read from a delimited file.</summary>
/// <param name="Source">The source name used in error messages.</param>
/// <param name="Header">The column names.</param>
/// <param name="Rows">The data rows; each has exactly as many values as the header.</param>
public sealed record DelimitedTable(string? Source, ImmutableArray<string> Header, ImmutableArray<DelimitedRow> Rows)
{
    /// <summary>The index of a column by name (case-insensitive, surrounding whitespace ignored), or -1.</summary>
    /// <param name="name">The column name.</param>
    /// <returns>The 0-based index or -1.</returns>
    public int IndexOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (var i = 0; i < Header.Length; i++)
        {
            if (string.Equals(Header[i], name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// Reads comma-separated files: a header line, then rows. Whitespace after a comma (FEBRL writes ", ") and around
/// unquoted values is ignored; double-quoted values may hold commas, line breaks and doubled quotes. Blank lines are
/// skipped. Every row must have as many values as the header.
/// </summary>
public static class DelimitedFile
{
    /// <summary>Reads a file.</summary>
    /// <param name="path">The file path.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The table.</returns>
    /// <exception cref="RecordFileFormatException">The file is malformed.</exception>
    public static DelimitedTable ReadFile(string path, CancellationToken cancellationToken = default)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Read(reader, path, cancellationToken);
    }

    /// <summary>Reads from a text reader.</summary>
    /// <param name="reader">The reader.</param>
    /// <param name="source">A name for error messages.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The table.</returns>
    /// <exception cref="RecordFileFormatException">The input is malformed.</exception>
    public static DelimitedTable Read(TextReader reader, string? source = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var parser = new Parser(reader, source);
        ImmutableArray<string>? header = null;
        var rows = ImmutableArray.CreateBuilder<DelimitedRow>();
        while (parser.ReadRow(out var line, out var values))
        {
            if ((rows.Count & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (header is null)
            {
                header = [.. values];
                continue;
            }

            if (values.Count != header.Value.Length)
            {
                var column = Math.Min(values.Count, header.Value.Length) + 1;
                throw new RecordFileFormatException(
                    source, line, column, $"expected {header.Value.Length} columns, found {values.Count}");
            }

            rows.Add(new DelimitedRow(line, [.. values]));
        }

        if (header is null)
        {
            throw new RecordFileFormatException(source, 1, null, "the file is empty (no header line)");
        }

        return new DelimitedTable(source, header.Value, rows.ToImmutable());
    }

    private sealed class Parser(TextReader reader, string? source)
    {
        private readonly StringBuilder _value = new();
        private int _line = 1;

        public bool ReadRow(out int startLine, out List<string> values)
        {
            values = [];
            while (true)
            {
                startLine = _line;
                var c = reader.Peek();
                if (c == -1)
                {
                    return false;
                }

                if (c is '\r' or '\n')
                {
                    ConsumeNewline();
                    continue;
                }

                // Skip lines made only of whitespace.
                break;
            }

            while (true)
            {
                var end = ReadField(values.Count + 1, out var field);
                values.Add(field);
                if (end != ',')
                {
                    if (values.Count == 1 && values[0].Length == 0)
                    {
                        // A whitespace-only line: skip it.
                        values.Clear();
                        return ReadRow(out startLine, out values);
                    }

                    return true;
                }
            }
        }

        /// <summary>Reads one field; returns ',' when another field follows, '\n' at end of row or file.</summary>
        private int ReadField(int column, out string field)
        {
            _value.Clear();
            while (reader.Peek() is ' ' or '\t')
            {
                reader.Read();
            }

            if (reader.Peek() == '"')
            {
                var quoteLine = _line;
                reader.Read();
                while (true)
                {
                    var c = reader.Read();
                    if (c == -1)
                    {
                        throw new RecordFileFormatException(source, quoteLine, column, "unterminated quoted value");
                    }

                    if (c == '"')
                    {
                        if (reader.Peek() == '"')
                        {
                            reader.Read();
                            _value.Append('"');
                            continue;
                        }

                        break;
                    }

                    if (c == '\n' || (c == '\r' && reader.Peek() != '\n'))
                    {
                        _line++;
                    }

                    _value.Append((char)c);
                }

                field = _value.ToString();
                while (reader.Peek() is ' ' or '\t')
                {
                    reader.Read();
                }

                var next = reader.Peek();
                if (next == ',')
                {
                    reader.Read();
                    return ',';
                }

                if (next is -1 or '\r' or '\n')
                {
                    ConsumeNewline();
                    return '\n';
                }

                throw new RecordFileFormatException(source, _line, column, $"unexpected character '{(char)next}' after a closing quote");
            }

            while (true)
            {
                var c = reader.Peek();
                if (c == ',')
                {
                    reader.Read();
                    field = _value.ToString().TrimEnd();
                    return ',';
                }

                if (c is -1 or '\r' or '\n')
                {
                    ConsumeNewline();
                    field = _value.ToString().TrimEnd();
                    return '\n';
                }

                if (c == '"')
                {
                    throw new RecordFileFormatException(source, _line, column, "a quote inside an unquoted value");
                }

                _value.Append((char)reader.Read());
            }
        }

        private void ConsumeNewline()
        {
            var c = reader.Read();
            if (c == -1)
            {
                return;
            }

            if (c == '\r' && reader.Peek() == '\n')
            {
                reader.Read();
            }

            _line++;
        }
    }
}
