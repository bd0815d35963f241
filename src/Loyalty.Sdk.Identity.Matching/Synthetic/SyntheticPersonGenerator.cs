using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Loyalty.Sdk.Identity.Matching.Synthetic;

/// <summary>Options of the synthetic person generator.</summary>
public sealed record SyntheticDataOptions
{
    /// <summary>Total number of records to produce (originals plus duplicates).</summary>
    public int RecordCount { get; init; } = 10_000;

    /// <summary>Share of the records that are duplicates of another record (0 to 0.9).</summary>
    public double DuplicateShare { get; init; } = 0.4;

    /// <summary>Most duplicates one person can have.</summary>
    public int MaxDuplicatesPerPerson { get; init; } = 4;

    /// <summary>Most corruptions applied to one duplicate (at least one is always applied).</summary>
    public int MaxCorruptionsPerDuplicate { get; init; } = 3;

    /// <summary>Random seed; the same seed gives the same records.</summary>
    public int Seed { get; init; } = 12_345;
}

/// <summary>Generated records with their ground truth.</summary>
/// <param name="Records">The records (schema: given_name, surname, street_number, street, suburb, postcode, state, date_of_birth, phone, email, national_id).</param>
/// <param name="EntityByRecordId">The person behind every record id.</param>
/// <param name="TruePairs">Number of pairs of records of the same person.</param>
public sealed record SyntheticDataset(RecordSet Records, ImmutableDictionary<string, string> EntityByRecordId, long TruePairs);

/// <summary>
/// Deterministic generator of person records with duplicates: typos, given name and surname swapped, missing
/// values, moved addresses, day and month transposed, changed phones and e-mails. Meant for tests and benchmarks.
/// </summary>
public static class SyntheticPersonGenerator
{
    private static readonly string[] GivenNames =
    [
        "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "william", "elizabeth",
        "david", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah", "charles", "karen",
        "daniel", "nancy", "matthew", "lisa", "anthony", "betty", "mark", "margaret", "steven", "sandra",
        "paul", "ashley", "andrew", "kimberly", "joshua", "emily", "kenneth", "donna", "kevin", "michelle",
        "brian", "dorothy", "george", "carol", "timothy", "amanda", "ronald", "melissa", "jason", "deborah",
        "oliver", "charlotte", "jack", "olivia", "noah", "amelia", "leo", "isla", "lucas", "mia",
        "henry", "ava", "ethan", "grace", "samuel", "chloe", "liam", "zoe", "isaac", "ruby",
        "aisha", "wei", "priya", "mohammed", "sofia", "mateo", "yuki", "anika", "omar", "lena",
    ];

    private static readonly string[] Syllables =
    [
        "an", "ber", "car", "dal", "el", "fen", "gar", "hol", "is", "jon", "kel", "lan", "mor", "nel", "os",
        "par", "quin", "ros", "sel", "tor", "ul", "van", "wes", "yar", "zel", "bri", "cho", "dre", "fra", "gil",
        "ham", "ket", "lor", "mac", "nor", "pen", "ral", "sha", "tin", "wil", "ash", "bur", "cot", "den", "ford",
    ];

    private static readonly string[] StreetTypes = ["street", "road", "avenue", "place", "crescent", "drive", "court", "lane"];
    private static readonly string[] States = ["nsw", "vic", "qld", "wa", "sa", "tas", "act", "nt"];
    private static readonly string[] Domains = ["mail.example", "inbox.example", "post.example", "web.example"];

    private const string Schema = "given_name,surname,street_number,street,suburb,postcode,state,date_of_birth,phone,email,national_id";

    /// <summary>The schema of generated records.</summary>
    public static RecordSchema RecordSchema { get; } = RecordSchema.Create(
        ("given_name", FieldKind.GivenName),
        ("surname", FieldKind.Surname),
        ("street_number", FieldKind.StreetNumber),
        ("street", FieldKind.Street),
        ("suburb", FieldKind.Locality),
        ("postcode", FieldKind.Postcode),
        ("state", FieldKind.State),
        ("date_of_birth", FieldKind.BirthDate),
        ("phone", FieldKind.Phone),
        ("email", FieldKind.Email),
        ("national_id", FieldKind.NationalId));

    /// <summary>The generated columns, comma-separated, as a CSV header.</summary>
    public static string CsvHeader => Schema;

    /// <summary>Generates records.</summary>
    /// <param name="options">The options; null uses the defaults.</param>
    /// <returns>Records and truth.</returns>
    public static SyntheticDataset Generate(SyntheticDataOptions? options = null)
    {
        options ??= new SyntheticDataOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RecordCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxDuplicatesPerPerson, 1);
        if (options.DuplicateShare is < 0 or > 0.9)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "DuplicateShare must be within [0, 0.9].");
        }

        var random = new Random(options.Seed);
        var suburbCount = Math.Max(50, options.RecordCount / 25);
        var suburbs = Enumerable.Range(0, suburbCount).Select(i => new Suburb(
            Word(random, 2, 3),
            random.Next(200, 9999).ToString("D4", CultureInfo.InvariantCulture),
            States[random.Next(States.Length)])).ToArray();
        var streetNames = Enumerable.Range(0, Math.Max(100, options.RecordCount / 5))
            .Select(_ => Word(random, 2, 3) + " " + StreetTypes[random.Next(StreetTypes.Length)]).ToArray();

        var duplicates = (int)(options.RecordCount * options.DuplicateShare);
        var originals = options.RecordCount - duplicates;
        var people = new List<string?[]>(originals);
        var usedIds = new HashSet<string>(StringComparer.Ordinal);
        for (var p = 0; p < originals; p++)
        {
            people.Add(NewPerson(random, suburbs, streetNames, usedIds));
        }

        var records = new List<(string Id, string Entity, string?[] Values)>(options.RecordCount);
        var copies = new int[originals];
        for (var p = 0; p < originals; p++)
        {
            records.Add(($"p{p:D7}-0", p.ToString(CultureInfo.InvariantCulture), people[p]));
        }

        var made = 0;
        while (made < duplicates)
        {
            var p = random.Next(originals);
            if (copies[p] >= options.MaxDuplicatesPerPerson)
            {
                continue;
            }

            copies[p]++;
            var values = (string?[])people[p].Clone();
            var corruptions = 1 + random.Next(Math.Max(1, options.MaxCorruptionsPerDuplicate));
            for (var c = 0; c < corruptions; c++)
            {
                Corrupt(random, values, suburbs, streetNames);
            }

            records.Add(($"p{p:D7}-{copies[p]}", p.ToString(CultureInfo.InvariantCulture), values));
            made++;
        }

        // Deterministic shuffle so that duplicates are not next to their originals.
        for (var i = records.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (records[i], records[j]) = (records[j], records[i]);
        }

        var truePairs = copies.Sum(c => (long)(c + 1) * c / 2);
        return new SyntheticDataset(
            new RecordSet(RecordSchema, records.Select(r => new PersonRecord(r.Id, [.. r.Values]))),
            records.ToImmutableDictionary(r => r.Id, r => r.Entity, StringComparer.Ordinal),
            truePairs);
    }

    /// <summary>Writes a data set as CSV with an <c>id</c> column first and a <c>person</c> truth column last.</summary>
    /// <param name="dataset">The data set.</param>
    /// <param name="writer">The destination.</param>
    public static void WriteCsv(SyntheticDataset dataset, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteLine("id," + Schema + ",person");
        foreach (var record in dataset.Records.Records)
        {
            writer.Write(record.Id);
            foreach (var value in record.Values)
            {
                writer.Write(',');
                writer.Write(value);
            }

            writer.Write(',');
            writer.WriteLine(dataset.EntityByRecordId[record.Id]);
        }
    }

    private sealed record Suburb(string Name, string Postcode, string State);

    private static string?[] NewPerson(Random random, Suburb[] suburbs, string[] streets, HashSet<string> usedIds)
    {
        var given = random.NextDouble() < 0.7 ? GivenNames[Skewed(random, GivenNames.Length)] : Word(random, 2, 3);
        var surname = Word(random, 2, 3);
        var suburb = suburbs[(int)(suburbs.Length * Math.Pow(random.NextDouble(), 1.5))];
        var year = random.Next(1935, 2006);
        var month = random.Next(1, 13);
        var day = random.Next(1, DateTime.DaysInMonth(year, month) + 1);
        string id;
        do
        {
            id = random.Next(0, 1_000_000_000).ToString("D9", CultureInfo.InvariantCulture);
        }
        while (!usedIds.Add(id));

        return
        [
            given,
            surname,
            random.Next(1, 300).ToString(CultureInfo.InvariantCulture),
            streets[random.Next(streets.Length)],
            suburb.Name,
            suburb.Postcode,
            suburb.State,
            $"{year:D4}{month:D2}{day:D2}",
            "04" + random.Next(0, 100_000_000).ToString("D8", CultureInfo.InvariantCulture),
            $"{given}.{surname}{random.Next(1, 99)}@{Domains[random.Next(Domains.Length)]}",
            id,
        ];
    }

    private static void Corrupt(Random random, string?[] v, Suburb[] suburbs, string[] streets)
    {
        switch (random.Next(9))
        {
            case 0:
                v[0] = Typo(random, v[0]);
                break;
            case 1:
                v[1] = Typo(random, v[1]);
                break;
            case 2:
                (v[0], v[1]) = (v[1], v[0]);
                break;
            case 3:
                v[random.Next(v.Length)] = null;
                break;
            case 4:
                {
                    var suburb = suburbs[random.Next(suburbs.Length)];
                    v[2] = random.Next(1, 300).ToString(CultureInfo.InvariantCulture);
                    v[3] = streets[random.Next(streets.Length)];
                    v[4] = suburb.Name;
                    v[5] = suburb.Postcode;
                    v[6] = suburb.State;
                    break;
                }

            case 5:
                if (v[7] is { Length: 8 } dob && random.Next(2) == 0 && int.Parse(dob.AsSpan(6, 2), CultureInfo.InvariantCulture) <= 12)
                {
                    v[7] = string.Concat(dob.AsSpan(0, 4), dob.AsSpan(6, 2), dob.AsSpan(4, 2));
                }
                else
                {
                    v[7] = DigitTypo(random, v[7]);
                }

                break;
            case 6:
                v[8] = random.Next(2) == 0
                    ? "04" + random.Next(0, 100_000_000).ToString("D8", CultureInfo.InvariantCulture)
                    : DigitTypo(random, v[8]);
                break;
            case 7:
                v[9] = random.Next(2) == 0 && v[9] is { } email && email.IndexOf('@', StringComparison.Ordinal) is > 0 and var at
                    ? email[..at] + "@" + Domains[random.Next(Domains.Length)]
                    : Typo(random, v[9]);
                break;
            default:
                v[random.Next(2) == 0 ? 3 : 4] = Typo(random, v[random.Next(2) == 0 ? 3 : 4]);
                v[10] = random.Next(3) == 0 ? DigitTypo(random, v[10]) : v[10];
                break;
        }
    }

    private static string? Typo(Random random, string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length < 2)
        {
            return value;
        }

        var s = new StringBuilder(value);
        var i = random.Next(s.Length);
        switch (random.Next(4))
        {
            case 0:
                s[i] = (char)('a' + random.Next(26));
                break;
            case 1:
                s.Remove(i, 1);
                break;
            case 2:
                s.Insert(i, (char)('a' + random.Next(26)));
                break;
            default:
                if (i < s.Length - 1)
                {
                    (s[i], s[i + 1]) = (s[i + 1], s[i]);
                }

                break;
        }

        return s.ToString();
    }

    private static string? DigitTypo(Random random, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return value;
        }

        var chars = value.ToCharArray();
        var i = random.Next(chars.Length);
        chars[i] = (char)('0' + random.Next(10));
        return new string(chars);
    }

    private static string Word(Random random, int minSyllables, int maxSyllables)
    {
        var count = random.Next(minSyllables, maxSyllables + 1);
        var builder = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            builder.Append(Syllables[random.Next(Syllables.Length)]);
        }

        return builder.ToString();
    }

    /// <summary>An index skewed towards small values (a few common names and suburbs, a long tail).</summary>
    private static int Skewed(Random random, int length) => (int)(length * Math.Pow(random.NextDouble(), 2));
}
