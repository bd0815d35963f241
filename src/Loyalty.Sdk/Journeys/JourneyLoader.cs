using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Loyalty.Sdk.Serialization;
using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.Journeys;

/// <summary>
/// Reads journey definitions from JSON (one definition, or an array of them) in the same shape as
/// <see cref="JourneyDefinition"/> and the program's <c>journeys</c> section, and checks them with
/// <see cref="JourneyValidator"/>, listing every problem by path (syntax errors with line and column).
/// </summary>
public static class JourneyLoader
{
    private static readonly JsonTypeInfo<JourneyDefinition> One = (JsonTypeInfo<JourneyDefinition>)LoyaltyJson.Options.GetTypeInfo(typeof(JourneyDefinition));
    private static readonly JsonTypeInfo<IReadOnlyList<JourneyDefinition>> Many = (JsonTypeInfo<IReadOnlyList<JourneyDefinition>>)LoyaltyJson.Options.GetTypeInfo(typeof(IReadOnlyList<JourneyDefinition>));

    /// <summary>Parses and validates journey definitions: a JSON object (one journey) or an array.</summary>
    /// <param name="json">The JSON.</param>
    /// <param name="baseCurrency">The program's base currency (money literals in rules, e.g. <c>20 EUR</c>).</param>
    /// <param name="options">The options to check against (maximum wait, known templates and channels); defaults when null.</param>
    /// <exception cref="JourneyValidationException">The JSON is malformed or a definition is invalid; every problem is listed.</exception>
    public static IReadOnlyList<JourneyDefinition> Parse(string json, Currency baseCurrency, JourneyOptions? options = null)
    {
        var (journeys, errors) = TryParse(json, baseCurrency, options);
        return journeys ?? throw new JourneyValidationException(errors);
    }

    /// <summary>Reads and validates a journey definition file.</summary>
    /// <exception cref="JourneyValidationException">The file is malformed or a definition is invalid.</exception>
    public static async Task<IReadOnlyList<JourneyDefinition>> LoadAsync(string path, Currency baseCurrency, JourneyOptions? options = null, CancellationToken cancellationToken = default) =>
        Parse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false), baseCurrency, options);

    /// <summary>Parses and validates, returning the problems instead of throwing. Paths are <c>$</c> for a single
    /// object and <c>$[i]</c> for an array.</summary>
    public static (IReadOnlyList<JourneyDefinition>? Journeys, IReadOnlyList<ValidationError> Errors) TryParse(string json, Currency baseCurrency, JourneyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            return (null, [new ValidationError("$", "syntax", EventReader.Trim(ex.Message)) { Line = ex.LineNumber + 1, Column = ex.BytePositionInLine + 1 }]);
        }

        using (document)
        {
            var root = document.RootElement;
            var single = root.ValueKind == JsonValueKind.Object;
            if (!single && root.ValueKind != JsonValueKind.Array)
            {
                return (null, [new ValidationError("$", "not_an_object", "Journey definitions are a JSON object (one journey) or an array of them.")]);
            }

            var errors = new List<ValidationError>();
            JsonShape.CheckRequired(root, single ? One : Many, "$", errors, null);
            if (errors.Count > 0)
            {
                return (null, errors);
            }

            IReadOnlyList<JourneyDefinition>? journeys;
            try
            {
                journeys = single ? root.Deserialize(One) is { } j ? [j] : null : root.Deserialize(Many);
            }
            catch (JsonException ex)
            {
                return (null, [new ValidationError(ex.Path ?? "$", "invalid_value", EventReader.Trim(ex.Message))]);
            }

            if (journeys is null)
            {
                return (null, [new ValidationError("$", "null", "The journey definition is null.")]);
            }

            journeys = single ? [RestoreDefaults(root, journeys[0])] : RestoreDefaults(root, journeys);
            var problems = JourneyValidator.Validate(journeys, options ?? new JourneyOptions(), baseCurrency, "$");
            if (single)
            {
                problems = [.. problems.Select(e => e.Path.StartsWith("$[0]", StringComparison.Ordinal) ? e with { Path = "$" + e.Path[4..] } : e)];
            }

            return problems.Count == 0 ? (journeys, problems) : (null, problems);
        }
    }

    /// <summary>The JSON of one journey definition (what <see cref="Parse"/> reads back).</summary>
    public static string Serialize(JourneyDefinition journey) => JsonSerializer.Serialize(journey, One);

    /// <summary>The JSON array of journey definitions (what <see cref="Parse"/> reads back).</summary>
    public static string Serialize(IReadOnlyList<JourneyDefinition> journeys) => JsonSerializer.Serialize(journeys, Many);

    // Source-generated metadata passes the type's default for an omitted init-only member: put back the declared
    // defaults that differ from it (version 1, exitOnGoal true).
    internal static IReadOnlyList<JourneyDefinition> RestoreDefaults(JsonElement array, IReadOnlyList<JourneyDefinition> journeys)
    {
        var result = new JourneyDefinition[journeys.Count];
        var i = 0;
        foreach (var element in array.EnumerateArray())
        {
            if (i >= result.Length)
            {
                break;
            }

            result[i] = RestoreDefaults(element, journeys[i]);
            i++;
        }

        return result;
    }

    private static JourneyDefinition RestoreDefaults(JsonElement element, JourneyDefinition journey)
    {
        if (journey is null || element.ValueKind != JsonValueKind.Object)
        {
            return journey!;
        }

        if (!element.TryGetProperty("version", out _))
        {
            journey = journey with { Version = 1 };
        }

        if (journey.Goal is { } goal && element.TryGetProperty("goal", out var g) && g.ValueKind == JsonValueKind.Object && !g.TryGetProperty("exitOnGoal", out _))
        {
            journey = journey with { Goal = goal with { ExitOnGoal = true } };
        }

        return journey;
    }
}
