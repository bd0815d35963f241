using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.Documents;
using NodaTime;

namespace Loyalty.Sdk.PostgreSql.Backend.Tests;

/// <summary>Builders of change sets and fixed values.</summary>
internal static class Kit
{
    public static readonly TenantId Tenant = new("acme");
    public static readonly TenantId Other = new("globex");
    public static readonly Instant T0 = Instant.FromUtc(2025, 3, 14, 9, 30);

    public static DocumentWrite Insert(string collection, string key, string body = "{}", string? customer = null, Instant? due = null) =>
        new(collection, key, customer, due, body, 0, 1);

    public static DocumentWrite Update(string collection, string key, long expected, string body = "{}", string? customer = null, Instant? due = null) =>
        new(collection, key, customer, due, body, expected, expected + 1);

    public static DocumentWrite Delete(string collection, string key, long expected) =>
        new(collection, key, null, null, null, expected, expected + 1);

    public static DocumentWrite Upsert(string collection, string key, string body = "{}", string? customer = null, Instant? due = null) =>
        new(collection, key, customer, due, body, null, 0);

    public static DocumentWrite Remove(string collection, string key) =>
        new(collection, key, null, null, null, null, 0);

    public static DocumentChangeSet Changes(params DocumentWrite[] writes)
    {
        var set = new DocumentChangeSet();
        set.Documents.AddRange(writes);
        return set;
    }

    public static async Task CommitAsync(this IDocumentBackend backend, params DocumentWrite[] writes) =>
        await backend.CommitAsync(Tenant, Changes(writes));

    public static OutboxMessage Message(string key, Instant? due = null, TenantId? tenant = null, string customer = "cus_1", string template = "welcome") => new()
    {
        Key = key,
        Tenant = tenant ?? Tenant,
        Customer = new CustomerId(customer),
        ActionKind = "send_message",
        Channel = Channel.Email,
        Template = template,
        Variables = new Dictionary<string, string> { ["givenName"] = "Ada" },
        DueAt = due ?? T0,
    };
}
