using Loyalty.Sdk.Identity.Matching.Text;

namespace Loyalty.Sdk.Identity.Matching.Comparison;

/// <summary>Compares one field of two prepared records and returns the comparison level (0 = most similar, -1 = null).</summary>
internal sealed class FieldComparer
{
    public const int NullLevel = -1;

    private readonly PreparedField _field;
    private readonly PreparedField? _swapField;
    private readonly double[] _thresholds;
    private readonly ComparisonSettings _settings;
    private readonly Mode _mode;

    private FieldComparer(string name, PreparedField field, PreparedField? swapField, ComparisonSettings settings)
    {
        Name = name;
        Kind = field.Kind;
        _field = field;
        _settings = settings;
        var levels = new List<string> { "exact" };
        _thresholds = [];
        switch (field.Kind)
        {
            case FieldKind.GivenName:
            case FieldKind.Surname:
                _mode = Mode.Name;
                if (swapField is not null && settings.DetectSwappedNames)
                {
                    _swapField = swapField;
                    levels.Add("swapped with other name field");
                }

                _thresholds = [.. settings.NameJaroWinklerThresholds];
                levels.AddRange(_thresholds.Select(t => $"jaro-winkler >= {t:0.##}"));
                break;
            case FieldKind.FullName:
                _mode = Mode.FullName;
                levels.Add("same tokens in another order");
                _thresholds = [.. settings.NameJaroWinklerThresholds];
                levels.AddRange(_thresholds.Select(t => $"jaro-winkler >= {t:0.##}"));
                break;
            case FieldKind.BirthDate:
                _mode = Mode.Date;
                levels.Add("day and month transposed");
                levels.Add("one character edit");
                levels.Add("one of year, month, day differs");
                break;
            case FieldKind.StreetNumber:
                _mode = Mode.Number;
                levels.Add("one character edit");
                levels.Add($"within {settings.StreetNumberTolerance}");
                break;
            case FieldKind.Postcode:
                _mode = Mode.Code;
                levels.Add("one character edit");
                break;
            case FieldKind.NationalId:
                _mode = Mode.Code2;
                levels.Add("one character edit");
                levels.Add("two character edits");
                break;
            case FieldKind.State:
                _mode = Mode.Exact;
                break;
            case FieldKind.Phone:
                _mode = Mode.Phone;
                levels.Add($"last {settings.PhoneSuffixDigits} digits equal");
                levels.Add("one digit edit");
                break;
            case FieldKind.Email:
                _mode = Mode.Email;
                levels.Add("same local part");
                levels.Add("one character edit");
                break;
            default:
                _mode = Mode.Text;
                _thresholds = [.. settings.TextJaroWinklerThresholds];
                levels.AddRange(_thresholds.Select(t => $"jaro-winkler >= {t:0.##}"));
                break;
        }

        levels.Add("else");
        Levels = [.. levels];
    }

    private enum Mode
    {
        Exact,
        Name,
        FullName,
        Text,
        Date,
        Number,
        Code,
        Code2,
        Phone,
        Email,
    }

    public string Name { get; }

    public FieldKind Kind { get; }

    public string[] Levels { get; }

    public int LevelCount => Levels.Length;

    public PreparedField Field => _field;

    public static FieldComparer[] Create(RecordSchema schema, PreparedRecords records, ComparisonSettings settings)
    {
        var given = schema.IndexOfKind(FieldKind.GivenName);
        var surname = schema.IndexOfKind(FieldKind.Surname);
        var result = new FieldComparer[schema.Fields.Length];
        for (var f = 0; f < result.Length; f++)
        {
            PreparedField? swap = null;
            if (f == given && surname >= 0)
            {
                swap = records.Fields[surname];
            }
            else if (f == surname && given >= 0)
            {
                swap = records.Fields[given];
            }

            result[f] = new FieldComparer(schema.Fields[f].Name, records.Fields[f], swap, settings);
        }

        return result;
    }

    public int Compare(int i, int j)
    {
        var a = _field.Text[i];
        var b = _field.Text[j];
        if (a is null || b is null)
        {
            return NullLevel;
        }

        if (string.Equals(a, b, StringComparison.Ordinal))
        {
            return 0;
        }

        var last = Levels.Length - 1;
        switch (_mode)
        {
            case Mode.Name:
                {
                    var level = 1;
                    if (_swapField is not null)
                    {
                        if (string.Equals(a, _swapField.Text[j], StringComparison.Ordinal)
                            || string.Equals(b, _swapField.Text[i], StringComparison.Ordinal))
                        {
                            return 1;
                        }

                        level = 2;
                    }

                    return ByJaroWinkler(a, b, level, last);
                }

            case Mode.FullName:
                if (string.Equals(_field.Extra[i], _field.Extra[j], StringComparison.Ordinal))
                {
                    return 1;
                }

                return ByJaroWinkler(a, b, 2, last);
            case Mode.Text:
                return ByJaroWinkler(a, b, 1, last);
            case Mode.Date:
                return CompareDates(a, b, _field.Number[i], _field.Number[j]);
            case Mode.Number:
                if (StringSimilarity.DamerauLevenshtein(a, b, 1) <= 1)
                {
                    return 1;
                }

                var x = _field.Number[i];
                var y = _field.Number[j];
                return x >= 0 && y >= 0 && Math.Abs(x - y) <= _settings.StreetNumberTolerance ? 2 : 3;
            case Mode.Code:
                return StringSimilarity.DamerauLevenshtein(a, b, 1) <= 1 ? 1 : 2;
            case Mode.Code2:
                {
                    var d = StringSimilarity.DamerauLevenshtein(a, b, 2);
                    return d <= 1 ? 1 : d == 2 ? 2 : 3;
                }

            case Mode.Phone:
                {
                    var n = _settings.PhoneSuffixDigits;
                    if (a.Length >= n && b.Length >= n && a.AsSpan(a.Length - n).SequenceEqual(b.AsSpan(b.Length - n)))
                    {
                        return 1;
                    }

                    return StringSimilarity.DamerauLevenshtein(a, b, 1) <= 1 ? 2 : 3;
                }

            case Mode.Email:
                if (string.Equals(_field.Extra[i], _field.Extra[j], StringComparison.Ordinal))
                {
                    return 1;
                }

                // A typo keeps the digits. Digits tell accounts apart (jane.doe1984 and jane.doe1987 are usually two
                // people), and addresses are often built from names, so a similar address with other digits, or a
                // merely similar one, says little more than the names do: it is a disagreement.
                return SameDigits(a, b) && StringSimilarity.DamerauLevenshtein(a, b, 1) <= 1 ? 2 : 3;
            default:
                return last;
        }
    }

    private static bool SameDigits(string a, string b) => SameFiltered(a, b, digits: true);

    // Whether the digits (digits: true) or everything but them of the two values are the same sequence; allocation-free.
    private static bool SameFiltered(string a, string b, bool digits)
    {
        int i = 0, j = 0;
        while (true)
        {
            while (i < a.Length && char.IsAsciiDigit(a[i]) != digits)
            {
                i++;
            }

            while (j < b.Length && char.IsAsciiDigit(b[j]) != digits)
            {
                j++;
            }

            if (i == a.Length || j == b.Length)
            {
                return i == a.Length && j == b.Length;
            }

            if (a[i++] != b[j++])
            {
                return false;
            }
        }
    }

    private int ByJaroWinkler(string a, string b, int firstLevel, int last)
    {
        var similarity = StringSimilarity.JaroWinkler(a, b);
        for (var t = 0; t < _thresholds.Length; t++)
        {
            if (similarity >= _thresholds[t])
            {
                return firstLevel + t;
            }
        }

        return last;
    }

    /// <summary>Levels: 0 exact, 1 day/month transposed, 2 one edit, 3 one component differs, 4 else.</summary>
    internal static int CompareDates(string a, string b, int x, int y)
    {
        if (x >= 0 && y >= 0)
        {
            int ya = x / 10000, ma = x / 100 % 100, da = x % 100;
            int yb = y / 10000, mb = y / 100 % 100, db = y % 100;
            if (ya == yb && ma == db && da == mb)
            {
                return 1;
            }

            if (StringSimilarity.DamerauLevenshtein(a, b, 1) <= 1)
            {
                return 2;
            }

            var same = (ya == yb ? 1 : 0) + (ma == mb ? 1 : 0) + (da == db ? 1 : 0);
            return same == 2 ? 3 : 4;
        }

        return StringSimilarity.DamerauLevenshtein(a, b, 1) <= 1 ? 2 : 4;
    }
}
