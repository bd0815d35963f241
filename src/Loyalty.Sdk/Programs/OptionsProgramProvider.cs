using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.Options;

namespace Loyalty.Sdk.Programs;

/// <summary>Serves the programs configured in <see cref="LoyaltyOptions"/>.</summary>
public sealed class OptionsProgramProvider(IOptions<LoyaltyOptions> options) : IProgramProvider
{
    private readonly LoyaltyOptions options = (options ?? throw new ArgumentNullException(nameof(options))).Value;

    /// <inheritdoc />
    public LoyaltyProgram GetProgram(TenantId tenant) =>
        options.Programs.TryGetValue(tenant.Value, out var program) ? program
        : options.DefaultProgram ?? throw new LoyaltyException($"Tenant '{tenant}' has no program and no default program is configured.");
}
