using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.Serialization;

/// <summary>Structural checks on a JSON document against the serializer's metadata.</summary>
internal static class JsonShape
{
    // Checks that every required member is present, recursively, so a missing field is reported by its path (the
    // serializer itself would only say that "some" required member is missing).
    public static void CheckRequired(JsonElement element, JsonTypeInfo typeInfo, string path, List<ValidationError> errors, long? line)
    {
        switch (typeInfo.Kind)
        {
            case JsonTypeInfoKind.Object when element.ValueKind == JsonValueKind.Object:
                foreach (var property in typeInfo.Properties)
                {
                    var childPath = $"{path}.{property.Name}";
                    if (!element.TryGetProperty(property.Name, out var child) || child.ValueKind == JsonValueKind.Null)
                    {
                        if (property.IsRequired)
                        {
                            errors.Add(new ValidationError(childPath, "required", $"'{property.Name}' is required.") { Line = line });
                        }

                        continue;
                    }

                    CheckRequired(child, LoyaltyJson.Options.GetTypeInfo(property.PropertyType), childPath, errors, line);
                }

                break;
            case JsonTypeInfoKind.Enumerable when element.ValueKind == JsonValueKind.Array && typeInfo.ElementType is { } elementType:
                var elementInfo = LoyaltyJson.Options.GetTypeInfo(elementType);
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    CheckRequired(item, elementInfo, $"{path}[{index++}]", errors, line);
                }

                break;
        }
    }
}
