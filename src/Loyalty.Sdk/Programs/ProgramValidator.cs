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

        ValidateIdentity(program, Add);

        if (program.Ledger is { } ledger)
        {
            ValidateLedger(ledger, Add);
            errors.AddRange(ValidateEarningConditions(program, ledger));
        }

        if (program.Consent is not null)
        {
            errors.AddRange(Consent.CompiledConsentPolicy.Validate(program.Consent));
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

        if (program.Journeys.Count > 0 && program.BaseCurrency.Code is not null)
        {
            // The same checks as journeys registered in code, with the default JourneyOptions (the host's templates,
            // channels and maximum wait are checked again when the journeys capability first uses the program).
            errors.AddRange(Journeys.JourneyValidator.Validate(program.Journeys, new Journeys.JourneyOptions(), program.BaseCurrency));
        }

        return errors;
    }

    /// <summary>Earning-rule conditions in the rule language, checked against <see cref="Ledger.LedgerRules.CreateSchema"/>
    /// (errors carry the line and column inside the condition).</summary>
    private static IEnumerable<ValidationError> ValidateEarningConditions(LoyaltyProgram program, LedgerProgram ledger)
    {
        Rules.RuleSchema? schema = null;
        var rules = ledger.EarningRules ?? [];
        for (var i = 0; i < rules.Count; i++)
        {
            if (rules[i].When?.Rule is not { } condition)
            {
                continue;
            }

            schema ??= Ledger.LedgerRules.CreateSchema(program);
            foreach (var e in Rules.RuleCompiler.Check(condition, schema).Errors)
            {
                yield return e.ToValidationError($"$.ledger.earningRules[{i}].when.rule");
            }
        }
    }

    private static void ValidateLedger(LedgerProgram ledger, Action<string, string, string> add)
    {
        var codes = new HashSet<string>(StringComparer.Ordinal);
        var currencies = ledger.Currencies ?? [];
        if (currencies.Count == 0)
        {
            add("$.ledger.currencies", "required", "The ledger needs at least one point currency.");
        }

        for (var i = 0; i < currencies.Count; i++)
        {
            var c = currencies[i];
            var path = $"$.ledger.currencies[{i}]";
            if (!IdentifierType.IsValidName(c.Code))
            {
                add($"{path}.code", "invalid_name", "A currency code is 1 to 40 lower-case letters, digits or '_'.");
            }
            else if (!codes.Add(c.Code))
            {
                add($"{path}.code", "duplicate", $"Currency '{c.Code}' is defined twice.");
            }

            if (c.ValuePerPoint < 0)
            {
                add($"{path}.valuePerPoint", "negative", "The value of a point cannot be negative.");
            }

            if (c.Expiry is { } e)
            {
                ValidateExpiry(e, $"{path}.expiry", add);
            }
        }

        string Known(string? code) => code ?? ledger.PrimaryCurrency ?? string.Empty;
        if (!codes.Contains(ledger.PrimaryCurrency ?? string.Empty))
        {
            add("$.ledger.primaryCurrency", "unknown_currency", $"'{ledger.PrimaryCurrency}' is not one of the ledger's currencies.");
        }

        var rules = ledger.EarningRules ?? [];
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rules.Count; i++)
        {
            var r = rules[i];
            var path = $"$.ledger.earningRules[{i}]";
            if (string.IsNullOrWhiteSpace(r.Id) || !TenantId.IsValid(r.Id) || r.Id.StartsWith("tier:", StringComparison.Ordinal))
            {
                add($"{path}.id", "invalid_id", "A rule id is 1 to 128 letters, digits, '-', '_', '.' or '@' and does not start with 'tier:'.");
            }
            else if (!ids.Add(r.Id))
            {
                add($"{path}.id", "duplicate", $"Rule '{r.Id}' is defined twice.");
            }

            if (r.Version < 1)
            {
                add($"{path}.version", "out_of_range", "A rule version is at least 1.");
            }

            if (!codes.Contains(Known(r.Currency)))
            {
                add($"{path}.currency", "unknown_currency", $"'{Known(r.Currency)}' is not one of the ledger's currencies.");
            }

            switch (r.Kind)
            {
                case EarningRuleKind.Base when r.Rate <= 0:
                    add($"{path}.rate", "out_of_range", "A base rule earns a positive rate per unit of spend.");
                    break;
                case EarningRuleKind.Multiplier when r.Multiplier <= 1m:
                    add($"{path}.multiplier", "out_of_range", "A multiplier is greater than 1.");
                    break;
                case EarningRuleKind.Bonus when r.Points <= 0:
                    add($"{path}.points", "out_of_range", "A bonus is a positive number of points.");
                    break;
            }

            var when = r.When ?? new EarningConditions();
            for (var d = 0; d < when.DaysOfWeek.Count; d++)
            {
                if (when.DaysOfWeek[d] is < 1 or > 7)
                {
                    add($"{path}.when.daysOfWeek[{d}]", "out_of_range", "Days of week are 1 (Monday) to 7 (Sunday).");
                }
            }

            if (when.From is { } from && when.To is { } to && to < from)
            {
                add($"{path}.when.to", "before_from", "The window ends before it starts.");
            }

            for (var t = 0; t < when.Tiers.Count; t++)
            {
                if (ledger.Tiers?.Levels.Any(l => l.Id == when.Tiers[t]) != true)
                {
                    add($"{path}.when.tiers[{t}]", "unknown_tier", $"'{when.Tiers[t]}' is not a tier of the program.");
                }
            }
        }

        var caps = ledger.Caps ?? [];
        for (var i = 0; i < caps.Count; i++)
        {
            if (caps[i].MaxPoints <= 0)
            {
                add($"$.ledger.caps[{i}].maxPoints", "out_of_range", "A cap is a positive number of points.");
            }

            if (!codes.Contains(Known(caps[i].Currency)))
            {
                add($"$.ledger.caps[{i}].currency", "unknown_currency", $"'{Known(caps[i].Currency)}' is not one of the ledger's currencies.");
            }
        }

        ValidateExpiry(ledger.Expiry ?? new ExpiryPolicy(), "$.ledger.expiry", add);
        if (ledger.Pending is { Days: < 0 or > 365 })
        {
            add("$.ledger.pending.days", "out_of_range", "The pending window is 0 to 365 days.");
        }

        if (ledger.Reservations is { TimeoutMinutes: < 1 })
        {
            add("$.ledger.reservations.timeoutMinutes", "out_of_range", "A reservation timeout is at least one minute.");
        }

        if (ledger.ExpiryNoticeDays < 0)
        {
            add("$.ledger.expiryNoticeDays", "negative", "Notice days cannot be negative.");
        }

        var conversions = ledger.Conversions ?? [];
        for (var i = 0; i < conversions.Count; i++)
        {
            var c = conversions[i];
            if (!codes.Contains(c.From ?? string.Empty))
            {
                add($"$.ledger.conversions[{i}].from", "unknown_currency", $"'{c.From}' is not one of the ledger's currencies.");
            }

            if (!codes.Contains(c.To ?? string.Empty) || c.To == c.From)
            {
                add($"$.ledger.conversions[{i}].to", "unknown_currency", $"'{c.To}' is not another of the ledger's currencies.");
            }

            if (c.Rate <= 0)
            {
                add($"$.ledger.conversions[{i}].rate", "out_of_range", "A conversion rate is positive.");
            }
        }

        if (ledger.Tiers is { } tiers)
        {
            var levels = tiers.Levels ?? [];
            if (levels.Count == 0)
            {
                add("$.ledger.tiers.levels", "required", "Tiers need at least one level.");
            }

            for (var i = 0; i < levels.Count; i++)
            {
                var l = levels[i];
                var path = $"$.ledger.tiers.levels[{i}]";
                if (!IdentifierType.IsValidName(l.Id))
                {
                    add($"{path}.id", "invalid_name", "A tier id is 1 to 40 lower-case letters, digits or '_'.");
                }
                else if (levels.Take(i).Any(x => x.Id == l.Id))
                {
                    add($"{path}.id", "duplicate", $"Tier '{l.Id}' is defined twice.");
                }

                if (i == 0 && l.Threshold != 0)
                {
                    add($"{path}.threshold", "out_of_range", "The first tier is everyone's: its threshold is 0.");
                }
                else if (i > 0 && l.Threshold <= levels[i - 1].Threshold)
                {
                    add($"{path}.threshold", "not_increasing", "Thresholds increase from one tier to the next.");
                }

                if (l.EarnMultiplier < 1m)
                {
                    add($"{path}.earnMultiplier", "out_of_range", "An earn multiplier is at least 1.");
                }
            }

            if (tiers.WindowMonths is < 1 or > 36)
            {
                add("$.ledger.tiers.windowMonths", "out_of_range", "The window is 1 to 36 months.");
            }

            if (tiers.ReviewMonths is < 1 or > 36)
            {
                add("$.ledger.tiers.reviewMonths", "out_of_range", "Reviews are 1 to 36 months apart.");
            }

            if (tiers.GraceDays is < 0 or > 366)
            {
                add("$.ledger.tiers.graceDays", "out_of_range", "Grace is 0 to 366 days.");
            }
        }
    }

    private static void ValidateExpiry(ExpiryPolicy e, string path, Action<string, string, string> add)
    {
        switch (e.Kind)
        {
            case ExpiryKind.AfterActivation when e.Months < 0 || e.Days < 0 || e.Months + e.Days == 0:
                add($"{path}.months", "out_of_range", "Expiry after activation needs a positive number of months or days.");
                break;
            case ExpiryKind.FixedDate when e.FixedDate is null:
                add($"{path}.fixedDate", "required", "A fixed-date expiry needs its date.");
                break;
            case ExpiryKind.EndOfPeriod when e.Periods < 0 || e.RoundUpTo == ExpiryRounding.None:
                add($"{path}.roundUpTo", "required", "End-of-period expiry needs a period (month, quarter, year) and periods ≥ 0.");
                break;
        }

        if (e.InactivityMonths is < 1)
        {
            add($"{path}.inactivityMonths", "out_of_range", "Inactivity is at least one month.");
        }
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
