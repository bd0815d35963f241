using System.Collections.Immutable;

namespace Loyalty.Sdk.Identity.Matching;

/// <summary>A named field of a record schema.</summary>
/// <param name="Name">The field name (unique in the schema, case-insensitive).</param>
/// <param name="Kind">What the field holds.</param>
public sealed record FieldDefinition(string Name, FieldKind Kind);

/// <summary>The ordered fields shared by the records of a <see cref="RecordSet"/>.</summary>
public sealed class RecordSchema
{
    private readonly Dictionary<string, int> _indexByName;

    /// <summary>Creates a schema from field definitions.</summary>
    /// <param name="fields">The fields, in record order; names must be unique (case-insensitive) and not blank.</param>
    /// <exception cref="ArgumentException">A name is blank or repeated, or no field is given.</exception>
    public RecordSchema(IEnumerable<FieldDefinition> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        Fields = [.. fields];
        if (Fields.IsEmpty)
        {
            throw new ArgumentException("A schema needs at least one field.", nameof(fields));
        }

        _indexByName = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < Fields.Length; i++)
        {
            var name = Fields[i].Name;
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException($"Field {i} has a blank name.", nameof(fields));
            }

            if (!_indexByName.TryAdd(name, i))
            {
                throw new ArgumentException($"Field name '{name}' is used twice.", nameof(fields));
            }
        }
    }

    /// <summary>The fields in record order.</summary>
    public ImmutableArray<FieldDefinition> Fields { get; }

    /// <summary>Creates a schema from (name, kind) tuples.</summary>
    /// <param name="fields">The fields in record order.</param>
    /// <returns>The schema.</returns>
    public static RecordSchema Create(params (string Name, FieldKind Kind)[] fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return new RecordSchema(fields.Select(f => new FieldDefinition(f.Name, f.Kind)));
    }

    /// <summary>The position of a field, or -1 when the schema has no field of that name.</summary>
    /// <param name="name">The field name (case-insensitive).</param>
    /// <returns>The zero-based index or -1.</returns>
    public int IndexOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _indexByName.TryGetValue(name, out var index) ? index : -1;
    }

    /// <summary>The position of the first field of a kind, or -1.</summary>
    /// <param name="kind">The kind to find.</param>
    /// <returns>The zero-based index or -1.</returns>
    public int IndexOfKind(FieldKind kind)
    {
        for (var i = 0; i < Fields.Length; i++)
        {
            if (Fields[i].Kind == kind)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// One person record: an identifier and one raw string value per schema field. Values are kept as strings
/// (leading zeros survive); <see langword="null"/>, empty or blank values are missing.
/// </summary>
/// <param name="Id">The record identifier, unique in its <see cref="RecordSet"/>.</param>
/// <param name="Values">One value per schema field, in schema order.</param>
public sealed record PersonRecord(string Id, ImmutableArray<string?> Values)
{
    /// <summary>Creates a record from values in schema order.</summary>
    /// <param name="id">The record identifier.</param>
    /// <param name="values">One value per schema field.</param>
    /// <returns>The record.</returns>
    public static PersonRecord Create(string id, params string?[] values) => new(id, [.. values]);
}

/// <summary>A validated set of person records sharing one schema.</summary>
public sealed class RecordSet
{
    /// <summary>Creates a record set and checks it: every record has one value per field and ids are unique.</summary>
    /// <param name="schema">The schema.</param>
    /// <param name="records">The records.</param>
    /// <exception cref="ArgumentException">A record has the wrong number of values, a blank id, or an id used twice.</exception>
    public RecordSet(RecordSchema schema, IEnumerable<PersonRecord> records)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(records);
        Schema = schema;
        Records = [.. records];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in Records)
        {
            ArgumentNullException.ThrowIfNull(record, nameof(records));
            if (string.IsNullOrEmpty(record.Id))
            {
                throw new ArgumentException("A record has an empty id.", nameof(records));
            }

            if (record.Values.Length != schema.Fields.Length)
            {
                throw new ArgumentException(
                    $"Record '{record.Id}' has {record.Values.Length} values; the schema has {schema.Fields.Length} fields.",
                    nameof(records));
            }

            if (!seen.Add(record.Id))
            {
                throw new ArgumentException($"Record id '{record.Id}' is used twice.", nameof(records));
            }
        }
    }

    /// <summary>The schema of every record.</summary>
    public RecordSchema Schema { get; }

    /// <summary>The records in input order.</summary>
    public ImmutableArray<PersonRecord> Records { get; }

    /// <summary>The number of records.</summary>
    public int Count => Records.Length;
}
