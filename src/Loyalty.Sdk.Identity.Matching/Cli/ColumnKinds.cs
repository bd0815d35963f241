using System.Collections.Frozen;
using System.Text;

namespace Loyalty.Sdk.Identity.Matching.Cli;

/// <summary>
/// Recognises person-record columns by header name (case, spaces, dashes and underscores ignored), and parses
/// field-kind names given on a command line.
/// </summary>
public static class ColumnKinds
{
    private static readonly FrozenDictionary<string, FieldKind> Headers = new Dictionary<string, FieldKind>
    {
        ["givenname"] = FieldKind.GivenName,
        ["firstname"] = FieldKind.GivenName,
        ["forename"] = FieldKind.GivenName,
        ["fname"] = FieldKind.GivenName,
        ["surname"] = FieldKind.Surname,
        ["lastname"] = FieldKind.Surname,
        ["familyname"] = FieldKind.Surname,
        ["lname"] = FieldKind.Surname,
        ["name"] = FieldKind.FullName,
        ["fullname"] = FieldKind.FullName,
        ["streetnumber"] = FieldKind.StreetNumber,
        ["streetno"] = FieldKind.StreetNumber,
        ["housenumber"] = FieldKind.StreetNumber,
        ["address"] = FieldKind.Street,
        ["address1"] = FieldKind.Street,
        ["address2"] = FieldKind.Street,
        ["addressline1"] = FieldKind.Street,
        ["addressline2"] = FieldKind.Street,
        ["street"] = FieldKind.Street,
        ["streetaddress"] = FieldKind.Street,
        ["suburb"] = FieldKind.Locality,
        ["city"] = FieldKind.Locality,
        ["town"] = FieldKind.Locality,
        ["locality"] = FieldKind.Locality,
        ["postcode"] = FieldKind.Postcode,
        ["postalcode"] = FieldKind.Postcode,
        ["zip"] = FieldKind.Postcode,
        ["zipcode"] = FieldKind.Postcode,
        ["state"] = FieldKind.State,
        ["province"] = FieldKind.State,
        ["region"] = FieldKind.State,
        ["dateofbirth"] = FieldKind.BirthDate,
        ["dob"] = FieldKind.BirthDate,
        ["birthdate"] = FieldKind.BirthDate,
        ["birthday"] = FieldKind.BirthDate,
        ["phone"] = FieldKind.Phone,
        ["phonenumber"] = FieldKind.Phone,
        ["telephone"] = FieldKind.Phone,
        ["mobile"] = FieldKind.Phone,
        ["tel"] = FieldKind.Phone,
        ["email"] = FieldKind.Email,
        ["emailaddress"] = FieldKind.Email,
        ["socsecid"] = FieldKind.NationalId,
        ["ssn"] = FieldKind.NationalId,
        ["nationalid"] = FieldKind.NationalId,
        ["socialsecuritynumber"] = FieldKind.NationalId,
        ["taxid"] = FieldKind.NationalId,
        ["nin"] = FieldKind.NationalId,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The kind a header name stands for, when it is a recognised person-record column.</summary>
    /// <param name="header">The column name, e.g. <c>first_name</c> or <c>Date of Birth</c>.</param>
    /// <param name="kind">The kind.</param>
    /// <returns>True when recognised.</returns>
    public static bool TryRecognizeHeader(string header, out FieldKind kind)
    {
        ArgumentNullException.ThrowIfNull(header);
        return Headers.TryGetValue(Key(header), out kind);
    }

    /// <summary>
    /// Parses a kind name: an enum name (<c>GivenName</c>, <c>birthdate</c>) or any recognised header alias
    /// (<c>given_name</c>, <c>dob</c>, <c>zip</c>).
    /// </summary>
    /// <param name="text">The name.</param>
    /// <param name="kind">The kind.</param>
    /// <returns>True when recognised.</returns>
    public static bool TryParseKind(string text, out FieldKind kind)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Enum.TryParse(Key(text), ignoreCase: true, out kind) && Enum.IsDefined(kind))
        {
            return true;
        }

        return TryRecognizeHeader(text, out kind);
    }

    private static string Key(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c))
            {
                builder.Append(char.ToLowerInvariant(c));
            }
        }

        return builder.ToString();
    }
}
