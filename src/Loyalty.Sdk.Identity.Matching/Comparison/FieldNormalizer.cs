using System.Globalization;
using System.Text;
using PhoneNumbers;

namespace Loyalty.Sdk.Identity.Matching.Comparison;

/// <summary>Normalised values of one field across all prepared records (column layout for fast comparison).</summary>
internal sealed class PreparedField
{
    public PreparedField(FieldKind kind, int count)
    {
        Kind = kind;
        Text = new string?[count];
        Number = new int[count];
        Extra = new string?[count];
    }

    public FieldKind Kind { get; }

    /// <summary>Normalised value, null when missing.</summary>
    public string?[] Text { get; }

    /// <summary>Numeric form (date as yyyyMMdd, leading number of a street number), -1 when none.</summary>
    public int[] Number { get; }

    /// <summary>Secondary form: e-mail local part, phone national digits, sorted name tokens.</summary>
    public string?[] Extra { get; }

    /// <summary>Term-frequency adjustment in bits for an exact match on this record's value, when enabled.</summary>
    public float[]? TermFrequencyBits { get; set; }
}

/// <summary>Records of one or two record sets, normalised column by column.</summary>
internal sealed class PreparedRecords
{
    public PreparedRecords(string[] ids, PreparedField[] fields, int leftCount)
    {
        Ids = ids;
        Fields = fields;
        LeftCount = leftCount;
    }

    public string[] Ids { get; }

    public PreparedField[] Fields { get; }

    /// <summary>Records [0, LeftCount) come from the left set; the rest from the right set (link mode).</summary>
    public int LeftCount { get; }

    public int Count => Ids.Length;

    public bool IsLink => LeftCount < Ids.Length;
}

/// <summary>Normalises raw string values per field kind.</summary>
internal static class FieldNormalizer
{
    public static PreparedRecords Prepare(RecordSet left, RecordSet? right, string? defaultPhoneRegion, CancellationToken ct)
    {
        var schema = left.Schema;
        var count = left.Count + (right?.Count ?? 0);
        var ids = new string[count];
        var fields = new PreparedField[schema.Fields.Length];
        for (var f = 0; f < fields.Length; f++)
        {
            fields[f] = new PreparedField(schema.Fields[f].Kind, count);
        }

        var phoneUtil = PhoneNumberUtil.GetInstance();
        var index = 0;
        foreach (var set in right is null ? [left] : new[] { left, right })
        {
            foreach (var record in set.Records)
            {
                ct.ThrowIfCancellationRequested();
                ids[index] = record.Id;
                for (var f = 0; f < fields.Length; f++)
                {
                    Normalize(fields[f], index, record.Values[f], phoneUtil, defaultPhoneRegion);
                }

                index++;
            }
        }

        return new PreparedRecords(ids, fields, left.Count);
    }

    private static void Normalize(PreparedField field, int i, string? raw, PhoneNumberUtil phoneUtil, string? region)
    {
        field.Number[i] = -1;
        if (string.IsNullOrWhiteSpace(raw))
        {
            return;
        }

        switch (field.Kind)
        {
            case FieldKind.BirthDate:
                field.Text[i] = NormalizeDate(raw, out var packed);
                field.Number[i] = packed;
                break;
            case FieldKind.StreetNumber:
                {
                    var text = NormalizeWords(raw);
                    field.Text[i] = text;
                    field.Number[i] = LeadingNumber(text);
                    break;
                }

            case FieldKind.Postcode:
            case FieldKind.NationalId:
                field.Text[i] = NormalizeCode(raw);
                break;
            case FieldKind.Phone:
                field.Text[i] = NormalizePhone(raw, phoneUtil, region, out var national);
                field.Extra[i] = national;
                break;
            case FieldKind.Email:
                {
                    var email = raw.Trim().ToLowerInvariant();
                    field.Text[i] = email;
                    var at = email.IndexOf('@', StringComparison.Ordinal);
                    field.Extra[i] = at > 0 ? email[..at] : email;
                    break;
                }

            case FieldKind.FullName:
                {
                    var text = NormalizeWords(raw);
                    field.Text[i] = text;
                    if (text is not null)
                    {
                        var tokens = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        Array.Sort(tokens, StringComparer.Ordinal);
                        field.Extra[i] = string.Join(' ', tokens);
                    }

                    break;
                }

            default:
                field.Text[i] = NormalizeWords(raw);
                break;
        }

        if (field.Text[i] is { Length: 0 })
        {
            field.Text[i] = null;
            field.Extra[i] = null;
            field.Number[i] = -1;
        }
    }

    /// <summary>Lower case, letters and digits only, single spaces between words, diacritics removed.</summary>
    internal static string? NormalizeWords(string raw)
    {
        var decomposed = raw.Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        var pendingSpace = false;
        foreach (var c in decomposed)
        {
            if (char.IsLetterOrDigit(c))
            {
                if (pendingSpace && builder.Length > 0)
                {
                    builder.Append(' ');
                }

                pendingSpace = false;
                builder.Append(char.ToLowerInvariant(c));
            }
            else if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark && c != '\'')
            {
                pendingSpace = true;
            }
        }

        return builder.Length == 0 ? null : builder.ToString();
    }

    /// <summary>Upper-case letters and digits only: "2000", "AB12CD", "123-45-6789" → "123456789".</summary>
    internal static string? NormalizeCode(string raw)
    {
        var builder = new StringBuilder(raw.Length);
        foreach (var c in raw)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                builder.Append(char.ToUpperInvariant(c));
            }
        }

        return builder.Length == 0 ? null : builder.ToString();
    }

    /// <summary>
    /// Dates become an 8-digit <c>yyyyMMdd</c> string (components kept even when the calendar date is invalid,
    /// as typos often make it so); anything else keeps its digits.
    /// </summary>
    internal static string? NormalizeDate(string raw, out int packed)
    {
        packed = -1;
        var s = raw.Trim();
        int y, m, d;
        var parts = s.Split(['-', '/', '.', ' '], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 3 && parts.All(p => p.All(char.IsAsciiDigit)))
        {
            if (parts[0].Length == 4)
            {
                y = int.Parse(parts[0], CultureInfo.InvariantCulture);
                m = int.Parse(parts[1], CultureInfo.InvariantCulture);
                d = int.Parse(parts[2], CultureInfo.InvariantCulture);
            }
            else if (parts[2].Length == 4)
            {
                d = int.Parse(parts[0], CultureInfo.InvariantCulture);
                m = int.Parse(parts[1], CultureInfo.InvariantCulture);
                y = int.Parse(parts[2], CultureInfo.InvariantCulture);
            }
            else
            {
                return NormalizeCode(s);
            }

            if (m is < 0 or > 99 || d is < 0 or > 99)
            {
                return NormalizeCode(s);
            }

            packed = (y * 10000) + (m * 100) + d;
            return packed.ToString("D8", CultureInfo.InvariantCulture);
        }

        var digits = NormalizeCode(s);
        if (digits is { Length: 8 } && digits.All(char.IsAsciiDigit))
        {
            packed = int.Parse(digits, CultureInfo.InvariantCulture);
        }

        return digits;
    }

    /// <summary>E.164 when libphonenumber can parse the number (with the default region when given); digits otherwise.</summary>
    internal static string? NormalizePhone(string raw, PhoneNumberUtil util, string? region, out string? national)
    {
        national = null;
        try
        {
            var trimmed = raw.Trim();
            if (trimmed.StartsWith('+') || region is not null)
            {
                var number = util.Parse(trimmed, region ?? "ZZ");
                national = number.NationalNumber.ToString(CultureInfo.InvariantCulture);
                return util.Format(number, PhoneNumberFormat.E164);
            }
        }
        catch (NumberParseException)
        {
            // Fall back to the digits below.
        }

        var builder = new StringBuilder(raw.Length);
        foreach (var c in raw)
        {
            if (char.IsAsciiDigit(c))
            {
                builder.Append(c);
            }
        }

        if (builder.Length == 0)
        {
            return null;
        }

        var digits = builder.ToString();
        national = digits.TrimStart('0');
        return digits;
    }

    private static int LeadingNumber(string? text)
    {
        if (text is null)
        {
            return -1;
        }

        var value = 0;
        var any = false;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c) || value > 10_000_000)
            {
                break;
            }

            value = (value * 10) + (c - '0');
            any = true;
        }

        return any ? value : -1;
    }
}
