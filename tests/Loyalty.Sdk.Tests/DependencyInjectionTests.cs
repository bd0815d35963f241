using Loyalty.Sdk.Events;
using Loyalty.Sdk.Identity;
using Loyalty.Sdk.Pipeline;
using Loyalty.Sdk.Profiles;
using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using Loyalty.Sdk.Storage.InMemory;
using Loyalty.Sdk.Validation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;
using static Loyalty.Sdk.Tests.Ev;

namespace Loyalty.Sdk.Tests;

/// <summary>Records the order in which stages run.</summary>
internal sealed class CallLog
{
    private readonly List<string> calls = [];

    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (calls)
            {
                return calls.ToArray();
            }
        }
    }

    public void Add(string call)
    {
        lock (calls)
        {
            calls.Add(call);
        }
    }
}

internal sealed class RecordingIdentityStage(CallLog log) : IIdentityStage
{
    private readonly IdentityStage inner = new([]);

    public async ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        log.Add("identity");
        await inner.ProcessAsync(context, cancellationToken);
    }
}

internal sealed class RecordingProfileStage(CallLog log) : IProfileStage
{
    private readonly ProfileStage inner = new();

    public async ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        log.Add("profile");
        await inner.ProcessAsync(context, cancellationToken);
    }
}

/// <summary>A ledger stage that posts 10 points per event and checks that the profile stage ran before it.</summary>
internal sealed class RecordingLedgerStage(CallLog log) : ILedgerStage
{
    public ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        log.Add(context.Profile is null ? "ledger-without-profile" : "ledger");
        context.PointsPosted += 10;
        context.Decide(Capabilities.Ledger, "points_posted", "ledger.test_rule", "Posted 10 points.");
        return ValueTask.CompletedTask;
    }
}

internal sealed class RecordingTraitStage(CallLog log) : ITraitStage
{
    public ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        log.Add(context.Profile is null ? "traits-without-profile" : "traits");
        return ValueTask.CompletedTask;
    }
}

internal sealed class RecordingSegmentStage(CallLog log) : ISegmentStage
{
    public ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        log.Add(context.Profile is null ? "segments-without-profile" : "segments");
        context.AddSegmentChange(new SegmentChange("vip", Entered: true));
        return ValueTask.CompletedTask;
    }
}

internal sealed class RecordingJourneyStage(CallLog log) : IJourneyStage
{
    public ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        log.Add("journeys");
        return ValueTask.CompletedTask;
    }
}

internal sealed class RecordingOutboxStage(CallLog log) : IOutboxStage
{
    public ValueTask ProcessAsync(IngestContext context, CancellationToken cancellationToken)
    {
        log.Add("outbox");
        return ValueTask.CompletedTask;
    }
}

/// <summary>A host's own store: delegates to an in-memory store and counts sessions.</summary>
internal sealed class CountingStore : ILoyaltyStore
{
    private int sessions;

    public InMemoryLoyaltyStore Inner { get; } = new();

    public int SessionsOpened => Volatile.Read(ref sessions);

    public IOutboxStore Outbox => Inner.Outbox;

    public ValueTask<ILoyaltyStoreSession> OpenSessionAsync(TenantId tenant, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref sessions);
        return Inner.OpenSessionAsync(tenant, cancellationToken);
    }
}

public sealed class DependencyInjectionTests
{
    /// <summary>A service collection with logging as a host would have it.</summary>
    private static ServiceCollection HostServices()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        return services;
    }

    [Fact]
    public async Task AddLoyalty_with_in_memory_storage_and_the_retail_program_resolves_a_working_engine()
    {
        var services = new ServiceCollection();
        services.AddLoyalty(o => o.MaxBatchSize = 500).UseInMemoryStorage().UseDefaultProgram(DefaultPrograms.Retail());
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var engine = provider.GetRequiredService<ILoyaltyEngine>();
        var result = await engine.IngestAsync(Order("evt-1", "ord-1", at: SystemClock.Instance.GetCurrentInstant() - Duration.FromHours(1)));

        Assert.Equal(IngestOutcome.Applied, result.Outcome);
        Assert.Same(engine, provider.GetRequiredService<ILoyaltyEngine>());
        Assert.Equal(500, provider.GetRequiredService<IOptions<LoyaltyOptions>>().Value.MaxBatchSize);
    }

    [Fact]
    public async Task In_a_host_with_logging_the_engine_resolves_with_the_in_memory_store_and_the_configured_program()
    {
        var services = HostServices();
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(TestPrograms.Retail());
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        var engine = provider.GetRequiredService<ILoyaltyEngine>();

        var concrete = Assert.IsType<LoyaltyEngine>(engine);
        Assert.IsType<IdentityStage>(concrete.Stages[0]);
        Assert.IsType<ProfileStage>(concrete.Stages[1]);
        Assert.Same(provider.GetRequiredService<InMemoryLoyaltyStore>(), provider.GetRequiredService<ILoyaltyStore>());
        Assert.Equal("acme-rewards", provider.GetRequiredService<IProgramProvider>().GetProgram(Fixed.Tenant).Id);
        Assert.Same(SystemClock.Instance, provider.GetRequiredService<IClock>());
    }

    [Fact]
    public async Task A_clock_registered_before_AddLoyalty_replaces_the_system_clock()
    {
        var clock = new FakeClock(Instant.FromUtc(2021, 6, 1, 12, 0));
        var services = HostServices();
        services.AddSingleton<IClock>(clock);
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(TestPrograms.Retail());
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<ILoyaltyEngine>();

        var result = await engine.IngestAsync(Order("evt-1", "ord-1", at: clock.GetCurrentInstant() - Duration.FromDays(1)));
        clock.Advance(Duration.FromMinutes(3));
        var later = await engine.IngestAsync(Order("evt-2", "ord-2", at: clock.GetCurrentInstant() - Duration.FromDays(1)));

        Assert.NotEmpty(result.Decisions);
        Assert.All(result.Decisions, d => Assert.Equal(Instant.FromUtc(2021, 6, 1, 12, 0), d.DecidedAt));
        Assert.All(later.Decisions, d => Assert.Equal(Instant.FromUtc(2021, 6, 1, 12, 3), d.DecidedAt));
        var identity = (await engine.GetCustomerAsync(Fixed.Tenant, result.Customer!.Value))!.Identity;
        Assert.Equal(Instant.FromUtc(2021, 6, 1, 12, 0), Assert.Single(identity.Links).LinkedAt);

        // The future-skew check uses the fake clock too: an event from 2022 is "in the future" for it.
        var ex = await Assert.ThrowsAsync<EventValidationException>(async () =>
            await engine.IngestAsync(Order("evt-3", "ord-3", at: Instant.FromUtc(2022, 1, 1, 0, 0))));
        Assert.Equal("in_future", Assert.Single(ex.Errors).Code);
    }

    [Fact]
    public async Task Identity_and_profile_stages_registered_before_AddLoyalty_replace_the_built_in_ones()
    {
        var log = new CallLog();
        var services = HostServices();
        services.AddSingleton(log);
        services.AddSingleton<IIdentityStage, RecordingIdentityStage>();
        services.AddSingleton<IProfileStage, RecordingProfileStage>();
        services.AddSingleton<IClock>(new FakeClock(Fixed.Now));
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(TestPrograms.Retail());
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<ILoyaltyEngine>();

        var result = await engine.IngestAsync(Order("evt-1", "ord-1"));

        Assert.Equal(["identity", "profile"], log.Calls);
        Assert.Equal(IngestOutcome.Applied, result.Outcome);
        var view = await engine.GetCustomerAsync(Fixed.Tenant, result.Customer!.Value);
        Assert.Equal(1, view!.Profile!.Traits.Orders);
        var stages = ((LoyaltyEngine)engine).Stages;
        Assert.IsType<RecordingIdentityStage>(stages[0]);
        Assert.IsType<RecordingProfileStage>(stages[1]);
    }

    [Fact]
    public async Task Added_stages_run_after_identity_and_profile_in_pipeline_order_whatever_the_registration_order()
    {
        var log = new CallLog();
        var services = HostServices();
        services.AddSingleton(log);
        services.AddSingleton<IIdentityStage, RecordingIdentityStage>();
        services.AddSingleton<IProfileStage, RecordingProfileStage>();
        services.AddSingleton<IClock>(new FakeClock(Fixed.Now));
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(TestPrograms.Retail());

        // Registered in reverse pipeline order on purpose.
        services.AddSingleton<IOutboxStage, RecordingOutboxStage>();
        services.AddSingleton<IJourneyStage, RecordingJourneyStage>();
        services.AddSingleton<ISegmentStage, RecordingSegmentStage>();
        services.AddSingleton<ILedgerStage, RecordingLedgerStage>();
        services.AddSingleton<ITraitStage, RecordingTraitStage>();
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<ILoyaltyEngine>();

        var first = await engine.IngestAsync(Order("evt-1", "ord-1"));
        var second = await engine.IngestAsync(Visit("evt-2"));

        string[] once = ["identity", "profile", "traits", "ledger", "segments", "journeys", "outbox"];
        Assert.Equal([.. once, .. once], log.Calls);
        Assert.Equal(10, first.PointsPosted);
        Assert.Equal([new SegmentChange("vip", true)], first.Segments);
        var posted = Assert.Single(first.Decisions, d => d.Capability == Capabilities.Ledger);
        Assert.Equal("ledger.test_rule", posted.Rule);
        Assert.Equal(1, posted.RuleVersion);
        Assert.Contains(await engine.GetDecisionTrailAsync(Fixed.Tenant, first.Customer!.Value), d => d.Rule == "ledger.test_rule" && d.CausedBy == second.EventId);
    }

    [Fact]
    public async Task With_the_built_in_stages_an_added_ledger_stage_sees_the_profile()
    {
        var log = new CallLog();
        var services = HostServices();
        services.AddSingleton<IClock>(new FakeClock(Fixed.Now));
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(TestPrograms.Retail());
        services.AddSingleton<ILedgerStage>(new RecordingLedgerStage(log));
        services.AddSingleton<ISegmentStage>(new RecordingSegmentStage(log));
        await using var provider = services.BuildServiceProvider();

        var result = await provider.GetRequiredService<ILoyaltyEngine>().IngestAsync(Order("evt-1", "ord-1"));

        Assert.Equal(["ledger", "segments"], log.Calls);
        Assert.Equal(10, result.PointsPosted);
        Assert.Equal([Capabilities.Identity, Capabilities.Ledger], result.Decisions.Select(d => d.Capability));
    }

    [Fact]
    public async Task A_store_registered_before_AddLoyalty_replaces_the_in_memory_store()
    {
        var store = new CountingStore();
        var services = HostServices();
        services.AddSingleton<ILoyaltyStore>(store);
        services.AddSingleton<IClock>(new FakeClock(Fixed.Now));
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(TestPrograms.Retail());
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<ILoyaltyEngine>();

        var result = await engine.IngestAsync(Order("evt-1", "ord-1"));

        Assert.Same(store, provider.GetRequiredService<ILoyaltyStore>());
        Assert.True(store.SessionsOpened >= 1);
        Assert.Equal(1, StoreCounts.Of(store.Inner, Fixed.Tenant).Profiles);
        Assert.Empty(provider.GetRequiredService<InMemoryLoyaltyStore>().Tenants);
        Assert.NotNull(await engine.GetCustomerAsync(Fixed.Tenant, result.Customer!.Value));
    }

    [Fact]
    public async Task Without_a_program_resolving_the_engine_or_the_options_fails_validation()
    {
        var services = HostServices();
        services.AddLoyalty().UseInMemoryStorage();
        await using var provider = services.BuildServiceProvider();

        var onEngine = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ILoyaltyEngine>());
        var onOptions = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LoyaltyOptions>>().Value);
        var atStart = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(onEngine.Failures, f => f.Contains("No program is configured", StringComparison.Ordinal));
        Assert.Contains(onOptions.Failures, f => f.Contains("UseDefaultProgram", StringComparison.Ordinal));
        Assert.Equal(typeof(LoyaltyOptions), atStart.OptionsType);
    }

    [Fact]
    public async Task A_program_for_one_tenant_is_enough_to_start()
    {
        var services = HostServices();
        services.AddLoyalty().UseInMemoryStorage().UseProgram(Fixed.Tenant, TestPrograms.Retail());
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
        var programs = provider.GetRequiredService<IProgramProvider>();

        Assert.Equal("acme-rewards", programs.GetProgram(Fixed.Tenant).Id);
        Assert.Throws<LoyaltyException>(() => programs.GetProgram(Fixed.OtherTenant));
    }

    [Fact]
    public async Task Without_a_store_resolving_the_engine_says_how_to_configure_one()
    {
        var services = HostServices();
        services.AddLoyalty().UseDefaultProgram(TestPrograms.Retail());
        await using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<ILoyaltyEngine>());

        Assert.Contains("UseInMemoryStorage()", ex.Message, StringComparison.Ordinal);
        Assert.Contains("store", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_invalid_default_program_fails_options_validation_with_its_problems()
    {
        var services = HostServices();
        services.AddLoyalty().UseInMemoryStorage().UseDefaultProgram(TestPrograms.Retail() with { DefaultTimeZone = "Mars/Olympus_Mons", DefaultRegion = "ZZ" });
        await using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ILoyaltyEngine>());

        Assert.Equal(2, ex.Failures.Count());
        Assert.Contains(ex.Failures, f => f.Contains("(default)", StringComparison.Ordinal) && f.Contains("$.defaultTimeZone", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("$.defaultRegion", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_invalid_tenant_program_fails_options_validation_naming_the_tenant()
    {
        var services = HostServices();
        services.AddLoyalty()
            .UseInMemoryStorage()
            .UseDefaultProgram(TestPrograms.Retail())
            .UseProgram(Fixed.OtherTenant, TestPrograms.Retail() with { ExchangeRates = new Dictionary<string, decimal> { ["USD"] = -1m } });
        await using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        var failure = Assert.Single(ex.Failures);
        Assert.Contains("globex", failure, StringComparison.Ordinal);
        Assert.Contains("$.exchangeRates.USD", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("skew")]
    [InlineData("batch")]
    public async Task Invalid_engine_options_fail_validation(string which)
    {
        var services = HostServices();
        services.AddLoyalty(o =>
            {
                if (which == "skew")
                {
                    o.MaxFutureSkew = Duration.FromMinutes(-1);
                }
                else
                {
                    o.MaxBatchSize = 0;
                }
            })
            .UseInMemoryStorage()
            .UseDefaultProgram(TestPrograms.Retail());
        await using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LoyaltyOptions>>().Value);

        Assert.Contains(which == "skew" ? "MaxFutureSkew" : "MaxBatchSize", Assert.Single(ex.Failures), StringComparison.Ordinal);
    }
}
