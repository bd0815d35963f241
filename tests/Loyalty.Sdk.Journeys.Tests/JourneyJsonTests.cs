using System.Text.Json.Nodes;
using Loyalty.Sdk.Events;
using Loyalty.Sdk.Programs;
using NodaTime;

namespace Loyalty.Sdk.Journeys.Tests;

public sealed class JourneyJsonTests
{
    private static string ProgramWith(string journeysJson)
    {
        var program = JsonNode.Parse(DefaultPrograms.RetailJson)!.AsObject();
        program["journeys"] = JsonNode.Parse(journeysJson);
        return program.ToJsonString();
    }

    [Fact]
    public void The_templates_json_is_the_nine_templates()
    {
        var parsed = JourneyLoader.Parse(JourneyTemplates.Json, Currency.Eur);
        Assert.Equal(9, parsed.Count);
        Assert.Equal(JourneyLoader.Serialize(JourneyTemplates.All), JourneyLoader.Serialize(parsed));
    }

    [Fact]
    public void Every_template_round_trips_through_json()
    {
        foreach (var template in JourneyTemplates.All)
        {
            var json = JourneyLoader.Serialize(template);
            var back = Assert.Single(JourneyLoader.Parse(json, Currency.Eur));
            Assert.Equal(json, JourneyLoader.Serialize(back));
            Assert.Equal(template.Steps.Count, back.Steps.Count);
            Assert.Equal(template.Trigger, back.Trigger);
            Assert.Equal(template.Goal, back.Goal);
            Assert.Equal(template.ExitOn, back.ExitOn);
        }
    }

    [Fact]
    public void Omitted_members_take_their_declared_defaults()
    {
        const string json = """
            {
              "id": "minimal",
              "trigger": { "kind": "event", "eventKind": "signed_up" },
              "goal": { "eventKind": "order_placed", "window": "72:00:00" },
              "steps": [ { "id": "hello", "kind": "action", "action": { "kind": "send_message", "channel": "email", "template": "hello" } } ]
            }
            """;
        var j = Assert.Single(JourneyLoader.Parse(json, Currency.Eur));
        Assert.Equal(1, j.Version);
        Assert.Equal(JourneyReEntry.Once, j.ReEntry);
        Assert.True(j.Goal!.ExitOnGoal);
        Assert.Equal(Duration.FromDays(3), j.Goal.Window);
        Assert.Empty(j.ExitOn);
        Assert.Empty(j.Steps[0].Action!.Variables);
    }

    [Fact]
    public void A_program_json_with_a_journeys_section_loads_every_template()
    {
        var program = ProgramLoader.Parse(ProgramWith(JourneyTemplates.Json));
        Assert.Equal(JourneyTemplates.All.Select(t => t.Id), program.Journeys.Select(j => j.Id));
        var again = ProgramLoader.Parse(ProgramLoader.Serialize(program));
        Assert.Equal(JourneyLoader.Serialize(program.Journeys), JourneyLoader.Serialize(again.Journeys));
    }

    [Fact]
    public void Bad_journeys_in_a_program_list_every_error_by_path()
    {
        const string journeys = """
            [
              {
                "id": "broken",
                "holdoutPercent": 150,
                "reEntry": "once_per_period",
                "trigger": { "kind": "event", "filter": "nonsense >= 1" },
                "steps": [
                  { "id": "first", "kind": "wait", "duration": "12000:00:00", "next": "ask" },
                  { "id": "ask", "kind": "condition", "next": "ghost" },
                  { "id": "loose", "kind": "exit" },
                  { "id": "wait_open", "kind": "wait_for_event", "duration": "24:00:00" }
                ],
                "goal": { "window": "0:00:00" }
              },
              {
                "id": "second",
                "trigger": { "kind": "points_expiring" },
                "steps": [
                  { "id": "split", "kind": "split", "branches": [ { "id": "a", "weight": 60, "next": "send" }, { "id": "b", "weight": 10, "next": "send" } ] },
                  { "id": "send", "kind": "action", "action": { "kind": "send_message" } },
                  { "id": "give", "kind": "action", "action": { "kind": "award_points", "points": 0 } }
                ]
              }
            ]
            """;
        var (program, errors) = ProgramLoader.TryParse(ProgramWith(journeys));
        Assert.Null(program);
        var got = errors.Select(e => (e.Path, e.Code)).ToHashSet();
        (string, string)[] expected =
        [
            ("$.journeys[0].holdoutPercent", "out_of_range"),
            ("$.journeys[0].reEntryPeriod", "required"),
            ("$.journeys[0].trigger.eventKind", "required"),
            ("$.journeys[0].trigger.filter", "invalid_rule"),
            ("$.journeys[0].steps[0].duration", "wait_too_long"),
            ("$.journeys[0].steps[1].condition", "required"),
            ("$.journeys[0].steps[1].next", "unknown_step"),
            ("$.journeys[0].steps[2]", "unreachable_step"),
            ("$.journeys[0].steps[3]", "unreachable_step"),
            ("$.journeys[0].steps[3].eventKind", "required"),
            ("$.journeys[0].goal", "required"),
            ("$.journeys[0].goal.window", "out_of_range"),
            ("$.journeys[1].trigger.days", "out_of_range"),
            ("$.journeys[1].steps[0].branches", "invalid_split"),
            ("$.journeys[1].steps[1].action.channel", "required"),
            ("$.journeys[1].steps[1].action.template", "required"),
            ("$.journeys[1].steps[2]", "unreachable_step"),
            ("$.journeys[1].steps[2].action.points", "out_of_range"),
        ];
        foreach (var e in expected)
        {
            Assert.Contains(e, got);
        }

        Assert.Equal(expected.Length, errors.Count);
    }

    [Fact]
    public void Missing_members_are_reported_by_path_before_anything_else()
    {
        const string journeys = """[ { "id": "x", "steps": [ { "kind": "exit" } ] }, { "trigger": { "kind": "tier_changed" }, "steps": [] } ]""";
        var (_, errors) = ProgramLoader.TryParse(ProgramWith(journeys));
        var got = errors.Select(e => (e.Path, e.Code)).ToArray();
        Assert.Equal(
            new[] { ("$.journeys[0].trigger", "required"), ("$.journeys[0].steps[0].id", "required"), ("$.journeys[1].id", "required") },
            got);
    }

    [Fact]
    public void A_wrong_value_names_its_path_and_a_syntax_error_its_line_and_column()
    {
        var (_, wrong) = JourneyLoader.TryParse("""[ { "id": "x", "trigger": { "kind": "event", "eventKind": "signed_up" }, "steps": [ { "id": "a", "kind": "wiat" } ] } ]""", Currency.Eur);
        var error = Assert.Single(wrong);
        Assert.Equal("invalid_value", error.Code);
        Assert.Equal("$[0].steps[0].kind", error.Path);

        var (_, syntax) = JourneyLoader.TryParse("[\n  { \"id\": \"x\",\n    \"steps\": [ }\n]", Currency.Eur);
        var s = Assert.Single(syntax);
        Assert.Equal("syntax", s.Code);
        Assert.Equal(3, s.Line);
        Assert.NotNull(s.Column);
    }

    [Fact]
    public void A_single_journey_file_reports_paths_from_the_root_and_checks_the_host_options()
    {
        var options = new JourneyOptions();
        options.Channels.Add(ContactChannel.Email);
        const string json = """
            { "id": "sms_only", "trigger": { "kind": "event", "eventKind": "signed_up" },
              "steps": [ { "id": "text", "kind": "action", "action": { "kind": "send_message", "channel": "sms", "template": "hi" } } ] }
            """;
        var (journeys, errors) = JourneyLoader.TryParse(json, Currency.Eur, options);
        Assert.Null(journeys);
        Assert.Equal(("$.steps[0].action.channel", "unknown_channel"), errors.Select(e => (e.Path, e.Code)).Single());
        Assert.Single(JourneyLoader.Parse(json, Currency.Eur));
        Assert.Throws<JourneyValidationException>(() => JourneyLoader.Parse(json, Currency.Eur, options));
    }

    [Fact]
    public async Task Journeys_of_the_program_json_run_alongside_those_registered_in_code()
    {
        var fromJson = ProgramLoader.Parse(ProgramWith($"[{JourneyLoader.Serialize(JourneyTemplates.WelcomeSeries with { HoldoutPercent = 0 })}]"));
        await using var h = new Harness(o => o.Journeys.Add(JourneyTemplates.PostPurchaseThankYou), fromJson);
        await h.SignUpAsync("json@example.com");
        await h.Engine.IngestAsync(h.Order("json@example.com"));
        await h.RunDaysAsync(1, TimeSpan.FromHours(2));
        var templates = h.Email.Sent.Select(s => s.Template).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "thank_you_points", "welcome" }, templates);
        Assert.Equal(1, (await h.ReportAsync("welcome_series")).Entries);
    }

    [Fact]
    public async Task A_journey_in_both_the_program_and_the_code_is_refused_with_both_paths()
    {
        var fromJson = ProgramLoader.Parse(ProgramWith($"[{JourneyLoader.Serialize(JourneyTemplates.WelcomeSeries)}]"));
        await using var h = new Harness(o => o.Journeys.Add(JourneyTemplates.WelcomeSeries), fromJson);
        var ex = await Assert.ThrowsAsync<JourneyValidationException>(() => h.SignUpAsync("twice@example.com"));
        Assert.Equal(("$.journeys[0].version", "duplicate"), ex.Errors.Select(e => (e.Path, e.Code)).Single());
    }
}
