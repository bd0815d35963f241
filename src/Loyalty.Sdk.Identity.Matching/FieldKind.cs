namespace Loyalty.Sdk.Identity.Matching;

/// <summary>
/// What a field of a person record holds. The kind selects the normalisation, the comparison levels and the
/// default blocking keys for the field.
/// </summary>
public enum FieldKind
{
    /// <summary>Free text compared exactly and by Jaro–Winkler similarity.</summary>
    Text = 0,

    /// <summary>Given (first) name.</summary>
    GivenName,

    /// <summary>Surname (family or last name).</summary>
    Surname,

    /// <summary>Full name in one field; tokens in any order.</summary>
    FullName,

    /// <summary>Street address line (street name and type, or a secondary address line).</summary>
    Street,

    /// <summary>House or street number.</summary>
    StreetNumber,

    /// <summary>Suburb, city, town or locality.</summary>
    Locality,

    /// <summary>Postal code or ZIP code (kept as a string: leading zeros matter).</summary>
    Postcode,

    /// <summary>State, province or region.</summary>
    State,

    /// <summary>Date of birth (<c>yyyyMMdd</c>, ISO <c>yyyy-MM-dd</c>, or <c>d/M/yyyy</c>).</summary>
    BirthDate,

    /// <summary>Telephone number.</summary>
    Phone,

    /// <summary>E-mail address.</summary>
    Email,

    /// <summary>National identifier (social security, tax or insurance number).</summary>
    NationalId,
}
