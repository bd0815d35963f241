using Loyalty.Sdk.Events;
using Loyalty.Sdk.Programs;

namespace Loyalty.Sdk.Consent.Tests;

public sealed class PolicyTests
{
    [Fact]
    public void The_default_program_has_a_valid_consent_section()
    {
        var program = DefaultPrograms.Retail();
        Assert.NotNull(program.Consent);
        Assert.Equal(5, program.Consent!.Caps.Count);
        var compiled = CompiledConsentPolicy.For(program);
        Assert.NotNull(compiled.FindClass("promotional"));
        Assert.True(compiled.RequiresDoubleOptIn(ContactChannel.WhatsApp));
        var json = ProgramLoader.Serialize(program);
        Assert.Equal(program.Consent.Caps.Count, ProgramLoader.Parse(json).Consent!.Caps.Count);
    }

    [Fact]
    public void Every_problem_is_reported_with_its_path()
    {
        var policy = TestHost.TestPolicy() with
        {
            Caps = [new FrequencyCapRule { Id = "x", Max = 0, Days = 400, Tag = "nope" }, new FrequencyCapRule { Id = "x", Max = 1, Days = 1 }],
            QuietHours = new QuietHours { Start = "25:00", End = "09:00" },
            MessageClasses = [new MessageClassDefinition { Id = "m", Purpose = ConsentPurpose.Marketing, Topic = "unknown", Tags = ["ghost"] }],
            Holdout = new HoldoutPolicy { Percent = 80 },
        };
        var errors = ProgramValidator.Validate(DefaultPrograms.Retail() with { Consent = policy });
        var got = errors.Select(e => (e.Path, e.Code)).ToHashSet();
        Assert.Contains(("$.consent.caps[0].max", "out_of_range"), got);
        Assert.Contains(("$.consent.caps[0].days", "out_of_range"), got);
        Assert.Contains(("$.consent.caps[0].tag", "undeclared"), got);
        Assert.Contains(("$.consent.caps[1].id", "duplicate"), got);
        Assert.Contains(("$.consent.quietHours.start", "invalid_time"), got);
        Assert.Contains(("$.consent.messageClasses[0].topic", "undeclared"), got);
        Assert.Contains(("$.consent.messageClasses[0].tags[0]", "undeclared"), got);
        Assert.Contains(("$.consent.holdout.percent", "out_of_range"), got);
    }

    [Fact]
    public void A_window_may_not_swallow_the_whole_day()
    {
        var policy = TestHost.TestPolicy() with
        {
            QuietHours = new QuietHours { Start = "00:00", End = "12:00" },
            SendWindows = [new SendWindow { Channel = ContactChannel.Sms, From = "00:00", To = "12:00" }, new SendWindow { Channel = ContactChannel.Push, From = "08:00", To = "08:00" }],
        };
        var errors = CompiledConsentPolicy.Validate(policy);
        Assert.Contains(errors, e => e.Path == "$.consent.sendWindows[0]" && e.Code == "swallows_day");
        Assert.Contains(errors, e => e.Path == "$.consent.sendWindows[1]" && e.Code == "swallows_day");
        var quiet = CompiledConsentPolicy.Validate(policy with { QuietHours = new QuietHours { Start = "21:00", End = "21:00" }, SendWindows = [] });
        Assert.Contains(quiet, e => e.Path == "$.consent.quietHours" && e.Code == "swallows_day");
        Assert.Throws<Validation.ProgramValidationException>(() => CompiledConsentPolicy.Compile(policy));
    }

    [Fact]
    public void Program_json_with_a_bad_consent_section_lists_problems()
    {
        var json = DefaultPrograms.RetailJson.Replace("\"max\": 4", "\"max\": -1", StringComparison.Ordinal);
        var (program, errors) = ProgramLoader.TryParse(json);
        Assert.Null(program);
        Assert.Contains(errors, e => e.Path == "$.consent.caps[0].max");
    }
}
