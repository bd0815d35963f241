namespace Loyalty.Sdk.Identity.Matching.Text;

/// <summary>
/// Allocation-free string similarity and phonetic functions used by the comparison levels and blocking keys.
/// </summary>
public static class StringSimilarity
{
    /// <summary>The Winkler prefix scale (0.1 in the original paper).</summary>
    public const double DefaultPrefixScale = 0.1;

    /// <summary>
    /// Jaro similarity in [0, 1]: 1 for equal strings, 0 when nothing matches.
    /// Two empty strings are considered equal (1).
    /// </summary>
    /// <param name="a">First string.</param>
    /// <param name="b">Second string.</param>
    /// <returns>The Jaro similarity.</returns>
    public static double Jaro(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        if (a.SequenceEqual(b))
        {
            return 1.0;
        }

        if (a.IsEmpty || b.IsEmpty)
        {
            return 0.0;
        }

        // Canonical order (shorter first, then ordinal) makes the greedy matching symmetric.
        if (a.Length > b.Length || (a.Length == b.Length && a.SequenceCompareTo(b) > 0))
        {
            var t = a;
            a = b;
            b = t;
        }

        var window = Math.Max(0, (b.Length / 2) - 1);
        Span<bool> aFlags = a.Length <= 256 ? stackalloc bool[a.Length] : new bool[a.Length];
        Span<bool> bFlags = b.Length <= 256 ? stackalloc bool[b.Length] : new bool[b.Length];

        var matches = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var start = Math.Max(0, i - window);
            var end = Math.Min(b.Length - 1, i + window);
            for (var j = start; j <= end; j++)
            {
                if (!bFlags[j] && a[i] == b[j])
                {
                    aFlags[i] = true;
                    bFlags[j] = true;
                    matches++;
                    break;
                }
            }
        }

        if (matches == 0)
        {
            return 0.0;
        }

        var transpositions = 0;
        var k = 0;
        for (var i = 0; i < a.Length; i++)
        {
            if (!aFlags[i])
            {
                continue;
            }

            while (!bFlags[k])
            {
                k++;
            }

            if (a[i] != b[k])
            {
                transpositions++;
            }

            k++;
        }

        double m = matches;
        return ((m / a.Length) + (m / b.Length) + ((m - (transpositions / 2)) / m)) / 3.0;
    }

    /// <summary>
    /// Jaro–Winkler similarity in [0, 1] with the standard prefix bonus (up to four common leading characters,
    /// scale 0.1, applied whatever the Jaro value).
    /// </summary>
    /// <param name="a">First string.</param>
    /// <param name="b">Second string.</param>
    /// <returns>The Jaro–Winkler similarity.</returns>
    public static double JaroWinkler(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        var jaro = Jaro(a, b);
        if (jaro >= 1.0 || jaro <= 0.0)
        {
            return jaro;
        }

        var prefix = 0;
        var max = Math.Min(4, Math.Min(a.Length, b.Length));
        while (prefix < max && a[prefix] == b[prefix])
        {
            prefix++;
        }

        return jaro + (prefix * DefaultPrefixScale * (1.0 - jaro));
    }

    /// <summary>
    /// Damerau–Levenshtein distance in its optimal-string-alignment form: insertions, deletions, substitutions
    /// and transpositions of adjacent characters each cost 1.
    /// </summary>
    /// <param name="a">First string.</param>
    /// <param name="b">Second string.</param>
    /// <returns>The edit distance.</returns>
    public static int DamerauLevenshtein(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
        => DamerauLevenshtein(a, b, int.MaxValue);

    /// <summary>
    /// Damerau–Levenshtein (optimal string alignment) distance, stopping early once the distance is known to
    /// exceed <paramref name="maxDistance"/> (then <c>maxDistance + 1</c> is returned).
    /// </summary>
    /// <param name="a">First string.</param>
    /// <param name="b">Second string.</param>
    /// <param name="maxDistance">The largest distance of interest.</param>
    /// <returns>The distance, or <c>maxDistance + 1</c> when it is larger than <paramref name="maxDistance"/>.</returns>
    public static int DamerauLevenshtein(ReadOnlySpan<char> a, ReadOnlySpan<char> b, int maxDistance)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDistance);
        var cap = maxDistance == int.MaxValue ? int.MaxValue : maxDistance + 1;
        if (Math.Abs(a.Length - b.Length) > maxDistance)
        {
            return cap;
        }

        if (a.IsEmpty)
        {
            return Math.Min(b.Length, cap);
        }

        if (b.IsEmpty)
        {
            return Math.Min(a.Length, cap);
        }

        var width = b.Length + 1;
        var size = width * 3;
        Span<int> rows = size <= 512 ? stackalloc int[size] : new int[size];
        var twoBack = rows[..width];
        var previous = rows.Slice(width, width);
        var current = rows.Slice(2 * width, width);
        for (var j = 0; j < width; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var rowMin = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var value = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    value = Math.Min(value, twoBack[j - 2] + 1);
                }

                current[j] = value;
                if (value < rowMin)
                {
                    rowMin = value;
                }
            }

            if (rowMin > maxDistance)
            {
                return cap;
            }

            var t = twoBack;
            twoBack = previous;
            previous = current;
            current = t;
        }

        return Math.Min(previous[b.Length], cap);
    }

    /// <summary>
    /// American Soundex code (a letter and three digits, e.g. <c>R163</c> for "Robert"); non-letters are ignored.
    /// Returns an empty string when the input has no ASCII letter.
    /// </summary>
    /// <param name="value">The word to encode.</param>
    /// <returns>The four-character code, or an empty string.</returns>
    public static string Soundex(ReadOnlySpan<char> value)
    {
        Span<char> code = stackalloc char[4];
        var length = 0;
        var last = '\0';
        foreach (var raw in value)
        {
            var c = char.ToUpperInvariant(raw);
            if (c is < 'A' or > 'Z')
            {
                continue;
            }

            var digit = SoundexDigit(c);
            if (length == 0)
            {
                code[length++] = c;
                last = digit;
                continue;
            }

            if (digit == '0')
            {
                // Vowels (and y) separate equal codes; h and w do not.
                if (c is not ('H' or 'W'))
                {
                    last = '0';
                }

                continue;
            }

            if (digit != last)
            {
                code[length++] = digit;
                if (length == 4)
                {
                    break;
                }
            }

            last = digit;
        }

        if (length == 0)
        {
            return string.Empty;
        }

        while (length < 4)
        {
            code[length++] = '0';
        }

        return new string(code);
    }

    private static char SoundexDigit(char c) => c switch
    {
        'B' or 'F' or 'P' or 'V' => '1',
        'C' or 'G' or 'J' or 'K' or 'Q' or 'S' or 'X' or 'Z' => '2',
        'D' or 'T' => '3',
        'L' => '4',
        'M' or 'N' => '5',
        'R' => '6',
        _ => '0',
    };
}
