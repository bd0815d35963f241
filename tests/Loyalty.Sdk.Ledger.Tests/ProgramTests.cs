using Loyalty.Sdk.Programs;

namespace Loyalty.Sdk.Ledger.Tests;

public sealed class ProgramTests
{
    [Fact]
    public void The_default_program_has_a_realistic_ledger_section()
    {
        var program = DefaultPrograms.Retail();
        var ledger = program.Ledger!;
        Assert.Equal(["bronze", "silver", "gold", "platinum"], ledger.Tiers!.Levels.Select(l => l.Id));
        Assert.Equal(30, ledger.Pending.Days);
        Assert.Equal(ExpiryRounding.Month, ledger.Expiry.RoundUpTo);
        Assert.Contains(ledger.EarningRules, r => r.When.BirthdayMonth && r.Multiplier == 2m);
        Assert.Equal(ReturnMode.WithinBalance, ledger.Returns.Mode);
        Assert.Empty(ProgramValidator.Validate(program));
    }

    [Fact]
    public void Omitted_json_members_keep_their_defaults()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(ProgramLoader.Serialize(DefaultPrograms.Retail() with { Ledger = null }))!.AsObject();
        json["ledger"] = System.Text.Json.Nodes.JsonNode.Parse("{\"earningRules\":[{\"id\":\"b\",\"kind\":\"bonus\",\"points\":5}],\"tiers\":{\"levels\":[{\"id\":\"base\"}]}}");
        var program = ProgramLoader.Parse(json.ToJsonString());
        var ledger = program.Ledger!;
        Assert.Equal(("points", 1, 30, ReturnMode.WithinBalance, PendingStart.Completion), (ledger.PrimaryCurrency, ledger.EarningRules[0].Version, ledger.Reservations.TimeoutMinutes, ledger.Returns.Mode, ledger.Pending.StartsAt));
        Assert.Equal((1m, 1m, 12), (ledger.EarningRules[0].Multiplier, ledger.Tiers!.Levels[0].EarnMultiplier, ledger.Tiers.WindowMonths));
        Assert.Empty(ledger.EarningRules[0].When.DaysOfWeek);
    }

    [Fact]
    public void Every_ledger_problem_is_reported_with_its_path()
    {
        var program = Programs.Simple() with
        {
            Ledger = new LedgerProgram
            {
                Currencies = [new PointCurrency { Code = "points" }, new PointCurrency { Code = "points", ValuePerPoint = -1m }],
                PrimaryCurrency = "miles",
                EarningRules =
                [
                    new EarningRule { Id = "r", Kind = EarningRuleKind.Base, Rate = 0m },
                    new EarningRule { Id = "r", Kind = EarningRuleKind.Multiplier, Multiplier = 0.5m, When = new EarningConditions { DaysOfWeek = [0], Tiers = ["vip"] } },
                ],
                Caps = [new EarningCap { Period = CapPeriod.Day, MaxPoints = 0 }],
                Expiry = new ExpiryPolicy { Kind = ExpiryKind.FixedDate },
                Pending = new PendingPolicy { Days = -1 },
                Tiers = new TierProgram { Levels = [new TierLevel { Id = "a", Threshold = 5 }, new TierLevel { Id = "b", Threshold = 1 }] },
            },
        };
        var paths = ProgramValidator.Validate(program).Select(e => e.Path).ToList();
        Assert.Equal(
            [
                "$.ledger.currencies[1].code", "$.ledger.currencies[1].valuePerPoint", "$.ledger.primaryCurrency",
                "$.ledger.earningRules[0].currency", "$.ledger.earningRules[0].rate",
                "$.ledger.earningRules[1].id", "$.ledger.earningRules[1].currency", "$.ledger.earningRules[1].multiplier",
                "$.ledger.earningRules[1].when.daysOfWeek[0]", "$.ledger.earningRules[1].when.tiers[0]",
                "$.ledger.caps[0].maxPoints", "$.ledger.caps[0].currency", "$.ledger.expiry.fixedDate", "$.ledger.pending.days",
                "$.ledger.tiers.levels[0].threshold", "$.ledger.tiers.levels[1].threshold",
            ],
            paths);
    }
}
