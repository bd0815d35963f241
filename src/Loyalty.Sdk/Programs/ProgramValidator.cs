using Loyalty.Sdk.Validation;
using NodaTime;
using PhoneNumbers;

namespace Loyalty.Sdk.Programs;

/// <summary>Checks a program definition; every problem is reported with its path.</summary>
public static class ProgramValidator
{
    /// <summary>Validates <paramref name="program"/>; returns the problems (empty when valid).</summary>
    public static IReadOnlyList<ValidationError> Validate(LoyaltyProgram program)
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

        ValidateIdentity(program, Add);

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

        return errors;
    }

    private static void ValidateIdentity(LoyaltyProgram program, Action<string, string, string> add)
    {
        var identity = program.Identity ?? new IdentityPolicy();
        foreach (var (name, policy) in identity.Types)
        {
            var path = $"$.identity.types.{name}";
            if (!IdentifierType.IsValidName(name) || !program.IsKnownIdentifierType(new IdentifierType(name)))
            {
                add(path, "unknown_identifier_type", $"'{name}' is neither a built-in identifier type nor listed in customIdentifierTypes.");
            }

            if (policy is null)
            {
                add(path, "required", "A type policy cannot be null.");
                continue;
            }

            if (policy.Limit is < 1)
            {
                add($"{path}.limit", "out_of_range", "A limit is at least 1 (leave it out for no limit).");
            }

            if (policy.LimitWindowDays is < 1)
            {
                add($"{path}.limitWindowDays", "out_of_range", "A limit window is at least 1 day.");
            }
            else if (policy.LimitWindowDays is not null && policy.Limit is null)
            {
                add($"{path}.limitWindowDays", "requires_limit", "A limit window needs a limit.");
            }

            if (policy.Priority is < 0 or > 1000)
            {
                add($"{path}.priority", "out_of_range", "A priority is between 0 and 1000.");
            }

            if (policy.ProviderRules && name != IdentifierType.Email.Name)
            {
                add($"{path}.providerRules", "email_only", "Provider rules apply to e-mail addresses only.");
            }

            for (var i = 0; i < policy.Blocked.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(policy.Blocked[i]))
                {
                    add($"{path}.blocked[{i}]", "required", "A blocked value cannot be empty (empty values are always blocked).");
                }
            }

            for (var i = 0; i < policy.BlockedPatterns.Count; i++)
            {
                try
                {
                    _ = new System.Text.RegularExpressions.Regex(policy.BlockedPatterns[i], System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(50));
                }
                catch (ArgumentException ex)
                {
                    add($"{path}.blockedPatterns[{i}]", "invalid_pattern", $"Not a regular expression: {ex.Message}");
                }
            }
        }

        if (identity.AutoBlockThreshold is < 0 or 1)
        {
            add("$.identity.autoBlockThreshold", "out_of_range", "The auto-block threshold is 0 (off) or at least 2.");
        }

        if (identity.MaxIdentifiersPerCustomer < 1)
        {
            add("$.identity.maxIdentifiersPerCustomer", "out_of_range", "The identifier cap is at least 1.");
        }

        if (identity.MaxMergesPerCustomer < 0)
        {
            add("$.identity.maxMergesPerCustomer", "out_of_range", "The merge cap cannot be negative.");
        }

        var p = identity.Probabilistic;
        if (p.ReviewThreshold is <= 0 or >= 1)
        {
            add("$.identity.probabilistic.reviewThreshold", "out_of_range", "The review threshold is a probability strictly between 0 and 1.");
        }

        if (p.AutoMergeThreshold is <= 0 or > 1 || p.AutoMergeThreshold < p.ReviewThreshold)
        {
            add("$.identity.probabilistic.autoMergeThreshold", "out_of_range", "The auto-merge threshold is a probability at least the review threshold.");
        }

        if (p.MaxClusterSize < 2)
        {
            add("$.identity.probabilistic.maxClusterSize", "out_of_range", "The largest cluster is at least 2.");
        }
    }
}
