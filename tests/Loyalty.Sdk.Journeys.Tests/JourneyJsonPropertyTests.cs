using CsCheck;
using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Journeys.Tests;

/// <summary>Properties of the JSON form of journeys over generated definitions, valid or not.</summary>
public sealed class JourneyJsonPropertyTests
{
    private static readonly string[] Ids = ["a", "b", "c", "d", "ghost"];

    private static readonly Gen<JourneyStep> Step =
        Gen.Select(Gen.Int[0, Ids.Length - 1].Select(i => Ids[i]), Gen.Enum<JourneyStepKind>(), Gen.Int[0, Ids.Length].Select(i => i < Ids.Length ? Ids[i] : null), Gen.Int[0, Ids.Length].Select(i => i < Ids.Length ? Ids[i] : null), Gen.Int[-2, 600])
            .Select(t => new JourneyStep
            {
                Id = t.Item1,
                Kind = t.Item2,
                Next = t.Item3,
                Else = t.Item4,
                Duration = t.Item5 > 0 ? Duration.FromHours(t.Item5) : null,
                LocalTime = t.Item2 == JourneyStepKind.WaitUntil ? new LocalTime(t.Item5 % 24 < 0 ? 0 : t.Item5 % 24, 0) : null,
                Days = t.Item5 % 3,
                EventKind = t.Item5 % 4 == 0 ? "message_opened" : t.Item5 % 4 == 1 ? EventKinds.OrderPlaced : t.Item5 % 4 == 2 ? "nope" : null,
                Condition = t.Item2 == JourneyStepKind.Condition ? (t.Item5 % 2 == 0 ? "orders >= 1" : "orders >>") : null,
                Branches = t.Item2 == JourneyStepKind.Split ? [new JourneyBranch("x", t.Item5 % 101, t.Item3 ?? "a"), new JourneyBranch("y", 100 - (t.Item5 % 101), "b", Holdout: true)] : [],
                Action = t.Item2 == JourneyStepKind.Action
                    ? new JourneyAction
                    {
                        Kind = (JourneyActionKind)(Math.Abs(t.Item5) % 5),
                        Channel = t.Item5 % 2 == 0 ? ContactChannel.Sms : null,
                        Template = t.Item5 % 7 == 0 ? null : "tpl",
                        Points = t.Item5,
                        Variables = new Dictionary<string, string> { ["k"] = "v" + t.Item5 },
                    }
                    : null,
            });

    private static readonly Gen<JourneyDefinition> Journey =
        Gen.Select(Gen.Int[0, 3], Gen.Enum<JourneyTriggerKind>(), Gen.Enum<JourneyReEntry>(), Gen.Int[-5, 120], Step.Array[1, 5], Gen.Bool)
            .Select(t => new JourneyDefinition
            {
                Id = "j" + t.Item1,
                Version = t.Item1,
                Transactional = t.Item6,
                Trigger = new JourneyTrigger
                {
                    Kind = t.Item2, EventKind = t.Item6 ? EventKinds.SignedUp : "message_clicked", Days = t.Item4, OffsetDays = -t.Item4, Attribute = t.Item6 ? "birthday" : "anniversary",
                    Segment = t.Item6 ? "vip" : null, Filter = t.Item4 % 3 == 0 ? "event_value >= 20 EUR" : null,
                },
                ReEntry = t.Item3,
                ReEntryPeriod = t.Item4 > 0 ? Duration.FromDays(t.Item4) : null,
                HoldoutPercent = t.Item4,
                Steps = t.Item5,
                Goal = t.Item6 ? new JourneyGoal { EventKind = EventKinds.OrderPlaced, Window = Duration.FromDays(t.Item4), ExitOnGoal = t.Item4 % 2 == 0 } : null,
                ExitOn = t.Item6 ? [EventKinds.OrderReturned] : ["unsubscribed", "typo"],
            });

    [Fact]
    public void Any_definition_reads_back_from_its_json_with_the_same_errors()
    {
        Journey.Array[1, 4].Sample(journeys =>
        {
            var json = JourneyLoader.Serialize(journeys);
            var expected = JourneyValidator.Validate(journeys, new JourneyOptions(), Currency.Eur, "$").Select(e => (e.Path, e.Code)).ToArray();
            var (parsed, errors) = JourneyLoader.TryParse(json, Currency.Eur);
            Assert.Equal(expected, errors.Select(e => (e.Path, e.Code)).ToArray());
            if (parsed is not null)
            {
                Assert.Empty(expected);
                Assert.Equal(json, JourneyLoader.Serialize(parsed));
            }
        }, iter: 300, threads: 1);
    }
}
