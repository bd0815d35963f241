using System.Globalization;
using System.Text;
using NodaTime;
using NodaTime.Text;

namespace Loyalty.Sdk.Predictive.Cli;

/// <summary>Reads summary and transaction CSV files (comma-separated, header row, RFC 4180 quoting).</summary>
public static class CsvInput
{
    private static readonly LocalDatePattern[] DatePatterns =
    [
        LocalDatePattern.Iso,
        LocalDatePattern.CreateWithInvariantCulture("uuuuMMdd"),
        LocalDatePattern.CreateWithInvariantCulture("uuuu/MM/dd"),
    ];

    /// <summary>
    /// Reads customer summaries. The header must name an id column (<c>ID</c>, <c>id</c> or <c>customer_id</c>), frequency
    /// (<c>frequency</c> or <c>x</c>), recency (<c>recency</c> or <c>t_x</c>) and age (<c>T</c>); a monetary column
    /// (<c>monetary</c>, <c>monetary_value</c> or <c>zbar</c>) is optional. Names are case-insensitive.
    /// </summary>
    /// <param name="reader">The CSV text.</param>
    /// <param name="source">The file name used in error messages.</param>
    /// <returns>The summaries and whether a monetary column was present.</returns>
    /// <exception cref="PredictiveInputException">A column is missing or a value is invalid.</exception>
    public static (IReadOnlyList<CustomerSummary> Customers, bool HasMonetary) ReadSummaries(TextReader reader, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var header = ReadHeader(reader, source);
        var id = Require(header, source, "ID", "id", "customer_id", "customerid");
        var frequency = Require(header, source, "frequency", "x");
        var recency = Require(header, source, "recency", "t_x");
        var age = Require(header, source, "T", "age");
        var monetary = Find(header, "monetary", "monetary_value", "zbar");
        var result = new List<CustomerSummary>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = Split(line, source, lineNumber);
            var customerId = Field(fields, id, header, source, lineNumber);
            if (customerId.Length == 0)
            {
                throw Error("the customer id is empty.", source, lineNumber, id, header);
            }

            var x = Number(fields, frequency, header, source, lineNumber);
            var tx = Number(fields, recency, header, source, lineNumber);
            var t = Number(fields, age, header, source, lineNumber);
            var m = monetary >= 0 ? Number(fields, monetary, header, source, lineNumber) : 0;
            if (tx > t * (1 + 1e-12) + 1e-12)
            {
                throw Error(string.Create(CultureInfo.InvariantCulture, $"recency {tx} exceeds T {t}."), source, lineNumber, recency, header);
            }

            result.Add(new CustomerSummary(customerId, x, tx, t, m));
        }

        return (result, monetary >= 0);
    }

    /// <summary>Reads transactions by column name; dates as <c>yyyy-MM-dd</c>, <c>yyyyMMdd</c> or <c>yyyy/MM/dd</c>.</summary>
    /// <param name="reader">The CSV text.</param>
    /// <param name="customerColumn">The customer id column.</param>
    /// <param name="dateColumn">The date column.</param>
    /// <param name="amountColumn">The amount column, or null when there is none (amounts are then 0).</param>
    /// <param name="source">The file name used in error messages.</param>
    /// <returns>The transactions in file order.</returns>
    /// <exception cref="PredictiveInputException">A column is missing or a value is invalid.</exception>
    public static IReadOnlyList<Transaction> ReadTransactions(TextReader reader, string customerColumn, string dateColumn, string? amountColumn, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(customerColumn);
        ArgumentNullException.ThrowIfNull(dateColumn);
        var header = ReadHeader(reader, source);
        var customer = Require(header, source, customerColumn);
        var date = Require(header, source, dateColumn);
        var amount = amountColumn is null ? -1 : Require(header, source, amountColumn);
        var result = new List<Transaction>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = Split(line, source, lineNumber);
            var id = Field(fields, customer, header, source, lineNumber);
            if (id.Length == 0)
            {
                throw Error("the customer id is empty.", source, lineNumber, customer, header);
            }

            var dateText = Field(fields, date, header, source, lineNumber);
            LocalDate? parsed = null;
            foreach (var pattern in DatePatterns)
            {
                var r = pattern.Parse(dateText);
                if (r.Success)
                {
                    parsed = r.Value;
                    break;
                }
            }

            if (parsed is null)
            {
                throw Error($"'{dateText}' is not a date (use yyyy-MM-dd or yyyyMMdd).", source, lineNumber, date, header);
            }

            var value = 0m;
            if (amount >= 0)
            {
                var text = Field(fields, amount, header, source, lineNumber);
                if (!decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
                {
                    throw Error($"'{text}' is not a number.", source, lineNumber, amount, header);
                }

                if (value < 0)
                {
                    throw Error($"the amount {text} is negative.", source, lineNumber, amount, header);
                }
            }

            result.Add(new Transaction(id, parsed.Value, value));
        }

        return result;
    }

    private static string[] ReadHeader(TextReader reader, string? source)
    {
        var line = reader.ReadLine();
        if (line is null || string.IsNullOrWhiteSpace(line))
        {
            throw new PredictiveInputException("the file is empty or has no header row.", source, 1, null, null);
        }

        return Split(line.TrimStart('\uFEFF'), source, 1).Select(h => h.Trim()).ToArray();
    }

    private static int Find(string[] header, params string[] names)
    {
        foreach (var name in names)
        {
            var exact = Array.IndexOf(header, name);
            if (exact >= 0)
            {
                return exact;
            }
        }

        foreach (var name in names)
        {
            for (var i = 0; i < header.Length; i++)
            {
                if (string.Equals(header[i], name, StringComparison.OrdinalIgnoreCase))
                {
                    return i;
                }
            }
        }

        return -1;
    }

    private static int Require(string[] header, string? source, params string[] names)
    {
        var index = Find(header, names);
        if (index < 0)
        {
            var expected = string.Join(" or ", names.Select(n => $"'{n}'"));
            throw new PredictiveInputException($"missing column {expected} in the header ({string.Join(",", header)}).", source, 1, null, names[0]);
        }

        return index;
    }

    private static string Field(string[] fields, int index, string[] header, string? source, int line)
    {
        if (index >= fields.Length)
        {
            throw Error(string.Create(CultureInfo.InvariantCulture, $"the row has {fields.Length} fields; the value is missing."), source, line, index, header);
        }

        return fields[index].Trim();
    }

    private static double Number(string[] fields, int index, string[] header, string? source, int line)
    {
        var text = Field(fields, index, header, source, line);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw Error($"'{text}' is not a number.", source, line, index, header);
        }

        if (value < 0)
        {
            throw Error($"the value {text} is negative.", source, line, index, header);
        }

        return value;
    }

    private static PredictiveInputException Error(string problem, string? source, int line, int index, string[] header) =>
        new(problem, source, line, index + 1, index < header.Length ? header[index] : null);

    private static string[] Split(string line, string? source, int lineNumber)
    {
        if (!line.Contains('"', StringComparison.Ordinal))
        {
            return line.Split(',');
        }

        var fields = new List<string>();
        var current = new StringBuilder();
        var inQuotes = false;
        for (var i = 0; i < line.Length; i++)
        {
            var ch = line[i];
            if (inQuotes)
            {
                if (ch == '"')
                {
                    if (i + 1 < line.Length && line[i + 1] == '"')
                    {
                        current.Append('"');
                        i++;
                    }
                    else
                    {
                        inQuotes = false;
                    }
                }
                else
                {
                    current.Append(ch);
                }
            }
            else if (ch == '"')
            {
                inQuotes = true;
            }
            else if (ch == ',')
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(ch);
            }
        }

        if (inQuotes)
        {
            throw new PredictiveInputException("unterminated quoted field.", source, lineNumber, fields.Count + 1, null);
        }

        fields.Add(current.ToString());
        return [.. fields];
    }
}
