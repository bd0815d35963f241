using System.Reflection;
using System.Text.Json;
using Loyalty.Sdk.Serialization;
using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.Programs;

/// <summary>Reads program definitions from JSON and checks them, listing every problem by path.</summary>
public static class ProgramLoader
{
    /// <summary>Parses and validates a program definition.</summary>
    /// <exception cref="ProgramValidationException">The definition is malformed or invalid; every problem is listed.</exception>
    public static LoyaltyProgram Parse(string json)
    {
        var (program, errors) = TryParse(json);
        return program ?? throw new ProgramValidationException(errors);
    }

    /// <summary>Reads and validates a program definition file.</summary>
    /// <exception cref="ProgramValidationException">The definition is malformed or invalid.</exception>
    public static async Task<LoyaltyProgram> LoadAsync(string path, CancellationToken cancellationToken = default) =>
        Parse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));

    /// <summary>Parses and validates, returning the problems instead of throwing.</summary>
    public static (LoyaltyProgram? Program, IReadOnlyList<ValidationError> Errors) TryParse(string json)
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
            var errors = new List<ValidationError>();
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, [new ValidationError("$", "not_an_object", "A program definition must be a JSON object.")]);
            }

            JsonShape.CheckRequired(document.RootElement, LoyaltyJson.Program, "$", errors, null);
            if (errors.Count > 0)
            {
                return (null, errors);
            }

            LoyaltyProgram? program;
            try
            {
                program = document.RootElement.Deserialize(LoyaltyJson.Program);
            }
            catch (JsonException ex)
            {
                return (null, [new ValidationError(ex.Path ?? "$", "invalid_value", EventReader.Trim(ex.Message))]);
            }

            if (program is null)
            {
                return (null, [new ValidationError("$", "null", "The program definition is null.")]);
            }

            // Source-generated metadata passes 0 for an omitted init-only int: restore the declared default.
            if (!document.RootElement.TryGetProperty("version", out _))
            {
                program = program with { Version = 1 };
            }

            if (document.RootElement.TryGetProperty("journeys", out var journeys) && journeys.ValueKind == JsonValueKind.Array)
            {
                program = program with { Journeys = Journeys.JourneyLoader.RestoreDefaults(journeys, program.Journeys) };
            }

            var problems = ProgramValidator.Validate(program);
            return problems.Count == 0 ? (program, problems) : (null, problems);
        }
    }

    /// <summary>The JSON of a program definition.</summary>
    public static string Serialize(LoyaltyProgram program) => JsonSerializer.Serialize(program, LoyaltyJson.Program);
}

/// <summary>Program definitions that ship with the SDK.</summary>
public static class DefaultPrograms
{
    private static readonly Lazy<string> RetailJsonText = new(() =>
    {
        using var stream = typeof(DefaultPrograms).Assembly.GetManifestResourceStream("Loyalty.Sdk.default-program.json")
            ?? throw new InvalidOperationException("The default program resource is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>The JSON of a realistic retail program (EUR, Europe/Paris), the default of <c>loyalty simulate</c>.</summary>
    public static string RetailJson => RetailJsonText.Value;

    /// <summary>The realistic retail program, parsed and validated.</summary>
    public static LoyaltyProgram Retail() => ProgramLoader.Parse(RetailJson);
}
