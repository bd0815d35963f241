using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Loyalty.Sdk.Identity;

/// <summary>
/// The identifier index of the in-memory store: a hash table keyed by <see cref="Identifier"/> with open addressing
/// (linear probing) whose slots hold the key's hash, type and value inline. A lookup reads one slot (usually one cache
/// line) and the stored value string to confirm equality, where <see cref="Dictionary{TKey, TValue}"/> reads a bucket,
/// an entry, the key object and its string: on an index of hundreds of thousands of identifiers that does not fit in
/// the caches, resolution is bound by those memory reads. Same thread-safety as a dictionary: one writer, and no
/// reader while it writes (the store's tenant gate).
/// </summary>
/// <typeparam name="TValue">What an identifier maps to.</typeparam>
internal sealed class IdentifierIndex<TValue> : IEnumerable<KeyValuePair<Identifier, TValue>>
{
    private const int MinCapacity = 8;

    private Slot[] slots;
    private int count;
    private int threshold;

    /// <summary>Creates an empty index sized for <paramref name="capacity"/> identifiers.</summary>
    public IdentifierIndex(int capacity = 0)
    {
        var size = MinCapacity;
        while (size * 7L / 10 < capacity)
        {
            size *= 2;
        }

        slots = new Slot[size];
        threshold = size * 7 / 10;
    }

    /// <summary>The number of identifiers indexed.</summary>
    public int Count => count;

    /// <summary>Sets the value of <paramref name="identifier"/> (adds it or replaces its value).</summary>
    public TValue this[Identifier identifier]
    {
        set => Set(identifier, value);
    }

    /// <summary>The value of <paramref name="identifier"/>, if indexed. Allocation-free.</summary>
    public bool TryGetValue(Identifier identifier, [MaybeNullWhen(false)] out TValue value)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var i = Find(identifier, identifier.GetHashCode());
        if (i < 0)
        {
            value = default;
            return false;
        }

        value = slots[i].Value;
        return true;
    }

    /// <summary>Whether <paramref name="identifier"/> is indexed.</summary>
    public bool ContainsKey(Identifier identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        return Find(identifier, identifier.GetHashCode()) >= 0;
    }

    /// <summary>Adds <paramref name="identifier"/> or replaces its value.</summary>
    public void Set(Identifier identifier, TValue value)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var hash = identifier.GetHashCode();
        var i = Find(identifier, hash);
        if (i >= 0)
        {
            slots[i].Value = value;
            return;
        }

        if (count >= threshold)
        {
            Resize(slots.Length * 2);
        }

        Insert(new Slot { Used = true, Hash = hash, Type = identifier.Type, Key = identifier.Value, Value = value });
        count++;
    }

    /// <summary>Removes <paramref name="identifier"/>; false when it was not indexed.</summary>
    public bool Remove(Identifier identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var i = Find(identifier, identifier.GetHashCode());
        if (i < 0)
        {
            return false;
        }

        // Backward-shift deletion: later slots of the probe run move into the hole when their home position allows,
        // so that no lookup stops early at it (no tombstones).
        var mask = slots.Length - 1;
        var j = i;
        while (true)
        {
            j = (j + 1) & mask;
            if (!slots[j].Used)
            {
                break;
            }

            var home = slots[j].Hash & mask;
            var stays = i <= j ? i < home && home <= j : i < home || home <= j;
            if (!stays)
            {
                slots[i] = slots[j];
                i = j;
            }
        }

        slots[i] = default;
        count--;
        return true;
    }

    /// <summary>Removes every identifier.</summary>
    public void Clear()
    {
        if (count > 0)
        {
            Array.Clear(slots);
            count = 0;
        }
    }

    /// <summary>Shrinks the table to the smallest size that holds the identifiers indexed.</summary>
    public void TrimExcess()
    {
        var size = MinCapacity;
        while (size * 7L / 10 < count)
        {
            size *= 2;
        }

        if (size < slots.Length)
        {
            Resize(size);
        }
    }

    /// <summary>The identifiers and their values, in no particular order.</summary>
    public IEnumerator<KeyValuePair<Identifier, TValue>> GetEnumerator()
    {
        var snapshot = slots;
        for (var i = 0; i < snapshot.Length; i++)
        {
            if (snapshot[i].Used)
            {
                yield return new KeyValuePair<Identifier, TValue>(new Identifier(snapshot[i].Type, snapshot[i].Key), snapshot[i].Value);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int Find(Identifier identifier, int hash)
    {
        var s = slots;
        var mask = s.Length - 1;
        var type = identifier.Type;
        var key = identifier.Value;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            ref var slot = ref s[i];
            if (!slot.Used)
            {
                return -1;
            }

            if (slot.Hash == hash && slot.Type == type && string.Equals(slot.Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }
    }

    private void Insert(Slot slot)
    {
        var mask = slots.Length - 1;
        var i = slot.Hash & mask;
        while (slots[i].Used)
        {
            i = (i + 1) & mask;
        }

        slots[i] = slot;
    }

    private void Resize(int size)
    {
        var old = slots;
        slots = new Slot[size];
        threshold = size * 7 / 10;
        foreach (var slot in old)
        {
            if (slot.Used)
            {
                Insert(slot);
            }
        }
    }

    // 32 bytes for a reference or 8-byte value: the flag packs with the hash, type and value are one reference each.
    private struct Slot
    {
        public bool Used;
        public int Hash;
        public IdentifierType Type;
        public string Key;
        public TValue Value;
    }
}
