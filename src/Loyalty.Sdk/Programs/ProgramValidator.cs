using Loyalty.Sdk.Validation;
using NodaTime;
using PhoneNumbers;

namespace Loyalty.Sdk.Programs;

/// <summary>Checks a program definition; every problem is reported with its path.</summary>
public static class ProgramValidator
{
    /// <summary>Validates <paramref name="program"/>; returns the problems (empty when valid).</summary>
    public static IReadOnlyList<ValidationError> Validate(LoyaltyProgram program) => Validate(program, null);

    /// <summary>Validates <paramref name="program"/>, checking segment rules against the built-in traits plus those of
    /// <paramref name="providers"/> (e.g. predictive scores registered by a capability).</summary>
    public static IReadOnlyList<ValidationError> Validate(LoyaltyProgram program, IEnumerable<Segments.ICustomerTraitProvider>? providers)
    {
        ArgumentNullException.ThrowIfNull(program);
        var errors = new List<ValidationError>();
        void Add(string path, string code, string message) => errors.Add(new ValidationError(path, code, message));

        if (string.IsNullOrWhiteSpace(program.Id) || !TenantId.IsValid(program.Id))
        {
            Add("$.id", "invalid_id", "The program id must be 1 to 128 letters, digits, '-', '_', '.', ':' or '@'.");
        }

        if (string.IsNullOrWhiteSpace(program.Name))
        {
            Add("$.name", "required", "The program needs a name.");
        }

        if (program.Version < 1)
        {
            Add("$.version", "out_of_range", "The version must be at least 1.");
        }

        if (program.BaseCurrency.Code is null)
        {
            Add("$.baseCurrency", "required", "The base currency is required (an ISO-4217 code).");
        }

        foreach (var (code, rate) in program.ExchangeRates ?? new Dictionary<string, decimal>())
        {
            if (!Currency.IsValid(code))
            {
                Add($"$.exchangeRates.{code}", "invalid_currency", $"'{code}' is not an ISO-4217 currency code.");
            }
            else if (code == program.BaseCurrency.Code)
            {
                Add($"$.exchangeRates.{code}", "base_currency", "The base currency needs no exchange rate.");
            }

            if (rate <= 0)
            {
                Add($"$.exchangeRates.{code}", "out_of_range", "An exchange rate must be positive.");
            }
        }

        if (program.DefaultTimeZone is null || DateTimeZoneProviders.Tzdb.GetZoneOrNull(program.DefaultTimeZone) is null)
        {
            Add("$.defaultTimeZone", "invalid_time_zone", $"'{program.DefaultTimeZone}' is not an IANA time zone id.");
        }

        if (program.DefaultRegion is null || !PhoneNumberUtil.GetInstance().GetSupportedRegions().Contains(program.DefaultRegion))
        {
            Add("$.defaultRegion", "invalid_region", $"'{program.DefaultRegion}' is not an ISO 3166-1 region with a phone numbering plan.");
        }

        var types = program.CustomIdentifierTypes ?? [];
        for (var i = 0; i < types.Count; i++)
        {
            if (types[i].IsBuiltIn)
            {
                Add($"$.customIdentifierTypes[{i}]", "built_in", $"'{types[i]}' is a built-in identifier type.");
            }
            else if (types.Take(i).Contains(types[i]))
            {
                Add($"$.customIdentifierTypes[{i}]", "duplicate", $"'{types[i]}' is listed twice.");
            }
        }

        var events = program.CustomEvents ?? [];
        for (var i = 0; i < events.Count; i++)
        {
            var d = events[i];
            var path = $"$.customEvents[{i}]";
            if (!IdentifierType.IsValidName(d.Name))
            {
                Add($"{path}.name", "invalid_name", "A custom event name is 1 to 40 lower-case letters, digits or '_'.");
            }
            else if (events.Take(i).Any(x => x.Name == d.Name))
            {
                Add($"{path}.name", "duplicate", $"Custom event '{d.Name}' is defined twice.");
            }

            foreach (var name in d.Properties.Keys)
            {
                if (!IdentifierType.IsValidName(name))
                {
                    Add($"{path}.properties.{name}", "invalid_name", "A property name is 1 to 40 lower-case letters, digits or '_'.");
                }
            }

            for (var r = 0; r < d.Required.Count; r++)
            {
                if (!d.Properties.ContainsKey(d.Required[r]))
                {
                    Add($"{path}.required[{r}]", "undeclared", $"Required property '{d.Required[r]}' is not declared in properties.");
                }
            }
        }

        var segments = program.Segments ?? [];
        for (var i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            if (!IdentifierType.IsValidName(s.Id))
            {
                Add($"$.segments[{i}].id", "invalid_id", "A segment id is 1 to 40 lower-case letters, digits or '_'.");
            }
            else if (segments.Take(i).Any(x => x.Id == s.Id))
            {
                Add($"$.segments[{i}].id", "duplicate", $"Segment '{s.Id}' is defined twice.");
            }

            if (string.IsNullOrWhiteSpace(s.Name))
            {
                Add($"$.segments[{i}].name", "required", "A segment needs a name.");
            }
        }

        if (errors.Count == 0 && segments.Count > 0)
        {
            // Rule errors carry the rule's path plus line:column inside the rule.
            errors.AddRange(Segments.SegmentCatalog.Validate(program, providers));
        }

        return errors;
    }
}
