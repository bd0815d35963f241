using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.Serialization;

/// <summary>One record of an NDJSON file: its 1-based line and either the event or the problems found.</summary>
/// <param name="Line">1-based line number in the file.</param>
/// <param name="Event">The event, when the line is well-formed.</param>
/// <param name="Errors">The problems, when it is not.</param>
public sealed record NdjsonRecord(long Line, LoyaltyEvent? Event, IReadOnlyList<ValidationError> Errors)
{
    /// <summary>Whether the line produced an event.</summary>
    public bool IsValid => Event is not null;
}

/// <summary>Reads events from JSON and NDJSON with precise, typed errors (field path, line and column).</summary>
public static class EventReader
{
    private static readonly Dictionary<string, Type> KindToType = LoyaltyJson.Event.PolymorphismOptions!.DerivedTypes
        .ToDictionary(d => (string)d.TypeDiscriminator!, d => d.DerivedType, StringComparer.Ordinal);

    /// <summary>Parses one event.</summary>
    /// <exception cref="EventValidationException">The text is not a well-formed event; every problem is listed.</exception>
    public static LoyaltyEvent Parse(string json)
    {
        var (e, errors) = TryParse(json, line: null);
        return e ?? throw new EventValidationException(errors);
    }

    /// <summary>Parses one event, returning the problems instead of throwing.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="line">The line of the text in its file (for NDJSON), used in error locations.</param>
    public static (LoyaltyEvent? Event, IReadOnlyList<ValidationError> Errors) TryParse(string json, long? line)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, MaxDepth = 32 });
        }
        catch (JsonException ex)
        {
            return (null, [new ValidationError("$", "syntax", Trim(ex.Message))
            {
                Line = line ?? (ex.LineNumber + 1),
                Column = ex.BytePositionInLine + 1,
            }]);
        }

        using (document)
        {
            var errors = new List<ValidationError>();
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, [At(new ValidationError("$", "not_an_object", "An event must be a JSON object."), line)]);
            }

            if (!root.TryGetProperty("kind", out var kindElement))
            {
                errors.Add(At(new ValidationError("$.kind", "required", "The event kind is missing."), line));
                JsonShape.CheckRequired(root, LoyaltyJson.Options.GetTypeInfo(typeof(LoyaltyEvent)), "$", errors, line);
                return (null, errors);
            }

            if (kindElement.ValueKind != JsonValueKind.String || !KindToType.TryGetValue(kindElement.GetString()!, out var type))
            {
                errors.Add(At(new ValidationError(
                    "$.kind",
                    "unknown_kind",
                    $"Unknown event kind {kindElement.GetRawText()}; expected one of: {string.Join(", ", EventKinds.All)}."), line));
                return (null, errors);
            }

            JsonShape.CheckRequired(root, LoyaltyJson.Options.GetTypeInfo(type), "$", errors, line);
            if (errors.Count > 0)
            {
                return (null, errors);
            }

            try
            {
                var e = root.Deserialize(LoyaltyJson.Event);
                return e is null
                    ? (null, [At(new ValidationError("$", "null", "The event is null."), line)])
                    : (e, []);
            }
            catch (JsonException ex)
            {
                return (null, [At(new ValidationError(ex.Path ?? "$", "invalid_value", Trim(ex.Message)), line)]);
            }
        }
    }

    /// <summary>Reads an NDJSON stream one record at a time; blank lines are skipped. Malformed lines are yielded with
    /// their errors so the caller decides whether to stop.</summary>
    public static async IAsyncEnumerable<NdjsonRecord> ReadNdjsonAsync(TextReader reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        long lineNumber = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            var (e, errors) = TryParse(text, lineNumber);
            yield return new NdjsonRecord(lineNumber, e, errors);
        }
    }

    private static ValidationError At(ValidationError error, long? line) => line is null ? error : error with { Line = line };

    internal static string Trim(string message)
    {
        foreach (var marker in new[] { " Path:", " LineNumber:" })
        {
            var cut = message.IndexOf(marker, StringComparison.Ordinal);
            if (cut > 0)
            {
                message = message[..cut];
            }
        }

        return message.TrimEnd(' ', '|');
    }
}
