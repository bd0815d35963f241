using System.Globalization;
using Loyalty.Sdk.Rules.Syntax;
using NodaTime;

namespace Loyalty.Sdk.Rules;

/// <summary>Type-checks a syntax tree against a schema, collecting every problem, and builds the delegates.</summary>
internal sealed class Binder(RuleSchema schema, RuleLimits limits)
{
    internal static readonly string[] Functions =
        ["now", "today", "days_since", "hours_since", "date", "day_of_week", "hour", "month", "is_weekend", "days_until_birthday", "in_segment", "abs"];

    internal static readonly string[] Methods = ["count", "sum", "avg", "min", "max", "distinct", "any", "none"];

    private static readonly string[] DayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

    private readonly HashSet<(int Series, long Window)> windows = [];

    public List<RuleError> Errors { get; } = [];

    public SortedSet<string> Traits { get; } = new(StringComparer.Ordinal);

    public SortedSet<string> Sources { get; } = new(StringComparer.Ordinal);

    public SortedSet<string> Segments { get; } = new(StringComparer.Ordinal);

    public SortedSet<string> UsedFunctions { get; } = new(StringComparer.Ordinal);

    public List<RuleSlot> Slots { get; } = [];

    public List<(WindowSeries Series, Duration Window)> Windows { get; } = [];

    public Bound Bind(RuleNode node)
    {
        switch (node)
        {
            case NumberLiteral n:
                return Const(node, RuleType.Number, (double)n.Value);
            case MoneyLiteral m:
                return Money(m);
            case DurationLiteral d:
                return Const(node, RuleType.Duration, d.ToDuration().TotalMilliseconds);
            case DateLiteral d:
                return Const(node, RuleType.Date, RuleTime.EpochDay(d.Value));
            case StringLiteral s:
                {
                    var v = s.Value;
                    return new Bound(node, RuleType.String) { S = (_, _) => v, Constant = true };
                }

            case BooleanLiteral b:
                {
                    var v = b.Value;
                    return new Bound(node, RuleType.Boolean) { B = v ? static (_, _) => true : static (_, _) => false, Constant = true };
                }

            case NullLiteral:
                return new Bound(node, RuleType.Null) { N = static (_, _) => double.NaN, S = static (_, _) => null, Constant = true };
            case IdentifierNode i:
                return Identifier(i);
            case CallNode c:
                return Call(c);
            case UnaryNode u:
                return Unary(u);
            case BinaryNode b:
                return Binary(b);
            case InNode n:
                return In(n);
            case IsNullNode n:
                return IsNull(n);
            case ListNode l:
                Error(l.Position, "type_mismatch", "A list can only follow 'in' or 'not in'.");
                return Bound.Error(node);
            default:
                Error(node.Position, "syntax", $"Unknown node {node.GetType().Name}.");
                return Bound.Error(node);
        }
    }

    private static Bound Const(RuleNode node, RuleType type, double value) => new(node, type) { N = (_, _) => value, Constant = true };

    private Bound Money(MoneyLiteral m)
    {
        if (m.Currency == schema.BaseCurrency.Code)
        {
            return Const(m, RuleType.Money, (double)m.Amount);
        }

        if (schema.ExchangeRates.TryGetValue(m.Currency, out var rate))
        {
            return Const(m, RuleType.Money, (double)(m.Amount * rate));
        }

        Error(m.Position, "currency", $"'{m.Currency}' cannot be compared with money in {schema.BaseCurrency.Code}: the program has no exchange rate for it.");
        return Bound.Error(m);
    }

    private Bound Identifier(IdentifierNode i)
    {
        if (schema.Traits.TryGetValue(i.Name, out var trait))
        {
            if (trait.Parameters.Count > 0)
            {
                Error(i.Position, "arguments", $"Trait '{i.Name}' takes {Describe(trait.Parameters)}: write {i.Name}({string.Join(", ", trait.Parameters.Select(p => p.Name))}).");
                return Bound.Error(i);
            }

            return Trait(i, trait, []);
        }

        if (schema.Sources.ContainsKey(i.Name))
        {
            Error(i.Position, "type_mismatch", $"'{i.Name}' is an event source, not a value: use e.g. {i.Name}.count(within: 30d).");
            return Bound.Error(i);
        }

        if (Functions.Contains(i.Name))
        {
            Error(i.Position, "type_mismatch", $"'{i.Name}' is a function: write {i.Name}(…).");
            return Bound.Error(i);
        }

        Error(i.Position, "unknown_name", $"Unknown trait '{i.Name}'.", Suggest(i.Name, schema.Traits.Keys.Concat(schema.Sources.Keys).Concat(Functions)));
        return Bound.Error(i);
    }

    private Bound Trait(RuleNode node, RuleTraitDefinition trait, IReadOnlyList<string> args)
    {
        var slot = schema.Slot(trait.Name, args, trait.Type);
        Slots.Add(slot);
        Traits.Add(args.Count == 0 ? trait.Name : $"{trait.Name}({string.Join(", ", args)})");
        var i = slot.Index;
        var bound = new Bound(node, trait.Type) { Detail = "trait " + (args.Count == 0 ? trait.Name : $"{trait.Name}({string.Join(", ", args)})") };
        switch (trait.Type)
        {
            case RuleType.Boolean:
                bound.B = (s, _) => s.Flags[i];
                break;
            case RuleType.String:
                bound.S = (s, _) => s.Texts[i];
                break;
            default:
                bound.N = (s, _) => s.Numbers[i];
                break;
        }

        if (trait.TimeDependent)
        {
            bound.TimeDependent = true;
            bound.Next = (s, _) => s.Expires[i];
        }

        return bound;
    }

    private Bound Call(CallNode c)
    {
        if (c.Target is not null)
        {
            return Aggregate(c);
        }

        if (schema.Traits.TryGetValue(c.Name, out var trait))
        {
            return TraitCall(c, trait);
        }

        if (Functions.Contains(c.Name))
        {
            UsedFunctions.Add(c.Name);
            return Function(c);
        }

        if (schema.Sources.ContainsKey(c.Name))
        {
            Error(c.Position, "type_mismatch", $"'{c.Name}' is an event source: call one of its methods, e.g. {c.Name}.count(within: 30d).");
            return Bound.Error(c);
        }

        Error(c.Position, "unknown_name", $"Unknown function '{c.Name}'.", Suggest(c.Name, Functions.Concat(schema.Traits.Where(t => t.Value.Parameters.Count > 0).Select(t => t.Key))));
        BindAll(c.Arguments.Select(a => a.Value));
        return Bound.Error(c);
    }

    private Bound TraitCall(CallNode c, RuleTraitDefinition trait)
    {
        if (c.Arguments.Count != trait.Parameters.Count)
        {
            Error(c.Position, "arguments", trait.Parameters.Count == 0
                ? $"Trait '{trait.Name}' takes no arguments: write {trait.Name}."
                : $"Trait '{trait.Name}' takes {Describe(trait.Parameters)}; {c.Arguments.Count} given.");
            return Bound.Error(c);
        }

        var args = new string[c.Arguments.Count];
        var ok = true;
        for (var i = 0; i < args.Length; i++)
        {
            var p = trait.Parameters[i];
            var a = c.Arguments[i];
            if (a.Name is not null && a.Name != p.Name)
            {
                Error(a.Value.Position, "arguments", $"Trait '{trait.Name}' has no parameter '{a.Name}'.", Suggest(a.Name, trait.Parameters.Select(x => x.Name)));
                ok = false;
                continue;
            }

            var symbol = Symbol(a.Value, p.Values, $"{p.Name} of '{trait.Name}'");
            ok &= symbol is not null;
            args[i] = symbol ?? "";
        }

        return ok ? Trait(c, trait, args) : Bound.Error(c);
    }

    private string? Symbol(RuleNode node, IReadOnlyList<string>? allowed, string what)
    {
        var value = node switch
        {
            IdentifierNode i => i.Name,
            StringLiteral s => s.Value,
            _ => null,
        };
        if (value is null)
        {
            Error(node.Position, "arguments", $"The {what} must be a name or a string literal.");
            return null;
        }

        if (allowed is not null && !allowed.Contains(value, StringComparer.Ordinal))
        {
            Error(node.Position, "unknown_value", $"'{value}' is not a valid {what}: expected one of {string.Join(", ", allowed)}.", Suggest(value, allowed));
            return null;
        }

        return value;
    }

    private Bound Function(CallNode c)
    {
        var args = c.Arguments;
        foreach (var a in args.Where(a => a.Name is not null))
        {
            Error(a.Value.Position, "arguments", $"'{c.Name}' takes no named arguments.");
        }

        switch (c.Name)
        {
            case "now":
                if (!Arity(c, 0, 0))
                {
                    return Bound.Error(c);
                }

                return new Bound(c, RuleType.Timestamp)
                {
                    N = static (_, n) => n,
                    TimeDependent = true,
                    Next = static (_, n) => n + 60_000,
                    WhenReaches = static (_, _, target) => double.IsNaN(target) ? long.MaxValue : (long)Math.Ceiling(target),
                };
            case "today":
                return Arity(c, 0, 0) ? new Bound(c, RuleType.Date) { N = static (s, n) => RuleTime.LocalDay(n, s.Zone), TimeDependent = true, Next = static (s, n) => RuleTime.NextLocalMidnight(n, s.Zone) } : Bound.Error(c);
            case "days_since":
            case "hours_since":
                {
                    if (!Arity(c, 1, 1))
                    {
                        return Bound.Error(c);
                    }

                    var x = Bind(args[0].Value);
                    if (x.Type == RuleType.Error)
                    {
                        return Bound.Error(c);
                    }

                    var unit = c.Name == "days_since" ? RuleTime.DayMs : RuleTime.HourMs;
                    Func<RuleSubject, long, double> start;
                    if (x.Type == RuleType.Timestamp)
                    {
                        start = x.N!;
                    }
                    else if (x.Type == RuleType.Date && c.Name == "days_since")
                    {
                        // Local midnight of the date, as an instant (approximated with the offset at that time).
                        var d = x.N!;
                        start = (s, n) =>
                        {
                            var day = d(s, n);
                            if (double.IsNaN(day))
                            {
                                return double.NaN;
                            }

                            var localMs = (long)day * RuleTime.DayMs;
                            return localMs - (RuleTime.Local(localMs, s.Zone) - localMs);
                        };
                    }
                    else
                    {
                        Error(args[0].Value.Position, "type_mismatch", $"'{c.Name}' expects a timestamp{(c.Name == "days_since" ? " or a date" : "")}, not {Name(x.Type)}.");
                        return Bound.Error(c);
                    }

                    return new Bound(c, RuleType.Number, x)
                    {
                        N = (s, n) =>
                        {
                            var t = start(s, n);
                            return double.IsNaN(t) ? double.NaN : Math.Floor((n - t) / unit);
                        },
                        TimeDependent = true,
                        Next = (s, n) =>
                        {
                            var t = start(s, n);
                            if (double.IsNaN(t))
                            {
                                return x.Next(s, n);
                            }

                            var k = Math.Floor((n - t) / unit) + 1;
                            return Math.Min((long)(t + (k * unit)), x.Next(s, n));
                        },
                        WhenReaches = (s, n, target) =>
                        {
                            var t = start(s, n);
                            return double.IsNaN(t) || double.IsNaN(target) ? long.MaxValue : (long)(t + (Math.Ceiling(target) * unit));
                        },
                    };
                }

            case "date":
            case "day_of_week":
            case "hour":
            case "month":
            case "is_weekend":
                return LocalPart(c);
            case "days_until_birthday":
                {
                    if (!Arity(c, 0, 0))
                    {
                        return Bound.Error(c);
                    }

                    if (!schema.Traits.TryGetValue("birth_date", out var birth) || birth.Type != RuleType.Date)
                    {
                        Error(c.Position, "unknown_name", "'days_until_birthday' needs a 'birth_date' date trait, which this schema does not declare.");
                        return Bound.Error(c);
                    }

                    var slot = Trait(c, birth, []).N!;
                    return new Bound(c, RuleType.Number)
                    {
                        N = (s, n) =>
                        {
                            var b = slot(s, n);
                            if (double.IsNaN(b))
                            {
                                return double.NaN;
                            }

                            var today = RuleTime.FromEpochDay((int)RuleTime.LocalDay(n, s.Zone));
                            var born = RuleTime.FromEpochDay((int)b);
                            var next = Anniversary(born, today.Year);
                            if (next < today)
                            {
                                next = Anniversary(born, today.Year + 1);
                            }

                            return RuleTime.EpochDay(next) - RuleTime.EpochDay(today);
                        },
                        TimeDependent = true,
                        Next = static (s, n) => RuleTime.NextLocalMidnight(n, s.Zone),
                        Detail = "trait birth_date",
                        Falling = true,
                    };
                }

            case "in_segment":
                {
                    if (!Arity(c, 1, 1))
                    {
                        return Bound.Error(c);
                    }

                    var id = args[0].Value is StringLiteral s ? s.Value : args[0].Value is IdentifierNode i ? i.Name : null;
                    if (id is null)
                    {
                        Error(args[0].Value.Position, "arguments", "in_segment expects a segment id string, e.g. in_segment(\"vip\").");
                        return Bound.Error(c);
                    }

                    if (!schema.Segments.Contains(id))
                    {
                        Error(args[0].Value.Position, "unknown_segment", $"Unknown segment '{id}'.", Suggest(id, schema.Segments));
                        return Bound.Error(c);
                    }

                    var slot = schema.Slot(RuleSchema.SegmentTrait, [id], RuleType.Boolean);
                    Slots.Add(slot);
                    Segments.Add(id);
                    var index = slot.Index;
                    return new Bound(c, RuleType.Boolean) { B = (s, _) => s.Flags[index], Detail = "segment " + id };
                }

            case "abs":
                {
                    if (!Arity(c, 1, 1))
                    {
                        return Bound.Error(c);
                    }

                    var x = Bind(args[0].Value);
                    if (x.Type == RuleType.Error)
                    {
                        return Bound.Error(c);
                    }

                    if (x.Type is not (RuleType.Number or RuleType.Money or RuleType.Duration))
                    {
                        Error(args[0].Value.Position, "type_mismatch", $"'abs' expects a number, money or a duration, not {Name(x.Type)}.");
                        return Bound.Error(c);
                    }

                    var f = x.N!;
                    return new Bound(c, x.Type, x) { N = (s, n) => Math.Abs(f(s, n)), TimeDependent = x.TimeDependent, Next = Bound.MinNext([x]) };
                }

            default:
                Error(c.Position, "unknown_name", $"Unknown function '{c.Name}'.");
                return Bound.Error(c);
        }
    }

    private static LocalDate Anniversary(LocalDate born, int year) =>
        born.Month == 2 && born.Day == 29 && !CalendarSystem.Iso.IsLeapYear(year) ? new LocalDate(year, 2, 28) : new LocalDate(year, born.Month, born.Day);

    private Bound LocalPart(CallNode c)
    {
        if (!Arity(c, c.Name == "date" ? 1 : 0, 1))
        {
            return Bound.Error(c);
        }

        Func<RuleSubject, long, double> time;
        Bound[] children = [];
        var timeDependent = true;
        if (c.Arguments.Count == 0 || c.Arguments[0].Value is CallNode { Target: null, Name: "now", Arguments.Count: 0 })
        {
            time = static (_, n) => n;
        }
        else
        {
            var x = Bind(c.Arguments[0].Value);
            if (x.Type == RuleType.Error)
            {
                return Bound.Error(c);
            }

            if (x.Type != RuleType.Timestamp)
            {
                Error(c.Arguments[0].Value.Position, "type_mismatch", $"'{c.Name}' expects a timestamp, not {Name(x.Type)}.");
                return Bound.Error(c);
            }

            time = x.N!;
            children = [x];
            timeDependent = x.TimeDependent;
        }

        var next = timeDependent ? (c.Name == "hour" ? static (s, n) => ((n / RuleTime.HourMs) + 1) * RuleTime.HourMs : static (RuleSubject s, long n) => RuleTime.NextLocalMidnight(n, s.Zone)) : Bound.Never;
        var bound = c.Name switch
        {
            "date" => new Bound(c, RuleType.Date, children)
            {
                N = (s, n) =>
                {
                    var t = time(s, n);
                    return double.IsNaN(t) ? double.NaN : RuleTime.LocalDay((long)t, s.Zone);
                },
            },
            "hour" => new Bound(c, RuleType.Number, children)
            {
                N = (s, n) =>
                {
                    var t = time(s, n);
                    return double.IsNaN(t) ? double.NaN : (RuleTime.Local((long)t, s.Zone) - (RuleTime.LocalDay((long)t, s.Zone) * RuleTime.DayMs)) / RuleTime.HourMs;
                },
            },
            "month" => new Bound(c, RuleType.Number, children)
            {
                N = (s, n) =>
                {
                    var t = time(s, n);
                    return double.IsNaN(t) ? double.NaN : RuleTime.FromEpochDay((int)RuleTime.LocalDay((long)t, s.Zone)).Month;
                },
            },
            "is_weekend" => new Bound(c, RuleType.Boolean, children)
            {
                B = (s, n) =>
                {
                    var t = time(s, n);
                    return !double.IsNaN(t) && DayIndex((long)t, s.Zone) >= 5;
                },
            },
            _ => new Bound(c, RuleType.String, children)
            {
                S = (s, n) =>
                {
                    var t = time(s, n);
                    return double.IsNaN(t) ? null : DayNames[DayIndex((long)t, s.Zone)];
                },
            },
        };
        bound.TimeDependent = timeDependent;
        bound.Next = next;
        return bound;
    }

    // 1970-01-01 was a Thursday (index 3 with Monday = 0).
    private static int DayIndex(long ms, DateTimeZone zone) => (int)(((RuleTime.LocalDay(ms, zone) % 7) + 7 + 3) % 7);

    private Bound Aggregate(CallNode c)
    {
        if (c.Target is not IdentifierNode target || !schema.Sources.TryGetValue(target.Name, out var source))
        {
            var name = (c.Target as IdentifierNode)?.Name;
            Error(c.Target!.Position, "unknown_name", name is null ? "Methods can only be called on an event source, e.g. orders.count(within: 30d)." : $"Unknown event source '{name}'.", name is null ? null : Suggest(name, schema.Sources.Keys));
            return Bound.Error(c);
        }

        Sources.Add(source.Name);
        if (!Methods.Contains(c.Name))
        {
            Error(c.Position, "unknown_name", $"Event sources have no method '{c.Name}': use {string.Join(", ", Methods)}.", Suggest(c.Name, Methods));
            return Bound.Error(c);
        }

        Duration? window = null;
        var filters = new SortedDictionary<string, string>(StringComparer.Ordinal);
        string? distinct = null;
        var ok = true;
        foreach (var a in c.Arguments)
        {
            if (a.Name is null)
            {
                if (c.Name == "distinct" && distinct is null)
                {
                    distinct = Symbol(a.Value, source.Filters.Keys.ToArray(), $"property of '{source.Name}' to count distinct");
                    ok &= distinct is not null;
                }
                else
                {
                    Error(a.Value.Position, "arguments", $"'{source.Name}.{c.Name}' takes named arguments (within: 30d{string.Concat(source.Filters.Keys.Take(1).Select(k => $", {k}: …"))}).");
                    ok = false;
                }

                continue;
            }

            if (a.Name == "within")
            {
                if (a.Value is not DurationLiteral d)
                {
                    Error(a.Value.Position, "type_mismatch", "'within' takes a duration literal, e.g. within: 90d.");
                    ok = false;
                }
                else if (d.ToDuration() <= Duration.Zero || d.ToDuration() > limits.MaxWindow)
                {
                    Error(a.Value.Position, "limit", $"A window must be longer than 0 and at most {limits.MaxWindow.TotalDays:0} days.");
                    ok = false;
                }
                else
                {
                    window = d.ToDuration();
                }

                continue;
            }

            if (!source.Filters.TryGetValue(a.Name, out var allowed))
            {
                Error(a.Value.Position, "arguments", $"'{source.Name}' cannot be filtered by '{a.Name}'.", Suggest(a.Name, source.Filters.Keys.Append("within")));
                ok = false;
                continue;
            }

            var filterValue = Symbol(a.Value, allowed, $"{a.Name} of '{source.Name}'");
            if (filterValue is null)
            {
                ok = false;
            }
            else if (!filters.TryAdd(a.Name, filterValue))
            {
                Error(a.Value.Position, "arguments", $"'{a.Name}' is given twice.");
                ok = false;
            }
        }

        if (c.Name == "distinct" && distinct is null && ok)
        {
            Error(c.Position, "arguments", $"'{source.Name}.distinct' needs the property to count, e.g. {source.Name}.distinct({source.Filters.Keys.FirstOrDefault() ?? "property"}, within: 365d).");
            ok = false;
        }

        if (window is null && ok)
        {
            Error(c.Position, "arguments", $"'{source.Name}.{c.Name}' needs a window, e.g. {source.Name}.{c.Name}(within: 90d).");
            ok = false;
        }

        var kind = c.Name switch
        {
            "sum" => AggregateKind.Sum,
            "avg" => AggregateKind.Avg,
            "min" => AggregateKind.Min,
            "max" => AggregateKind.Max,
            "distinct" => AggregateKind.Distinct,
            _ => AggregateKind.Count,
        };
        if (kind is AggregateKind.Sum or AggregateKind.Avg or AggregateKind.Min or AggregateKind.Max && source.ValueType is null)
        {
            Error(c.Position, "type_mismatch", $"'{source.Name}' events have no value to {c.Name}: use count, distinct, any or none.");
            ok = false;
        }

        if (!ok)
        {
            return Bound.Error(c);
        }

        var series = schema.SeriesFor(source.Name, filters.ToArray(), distinct, window!.Value);
        var windowMs = (long)window.Value.TotalMilliseconds;
        if (windows.Add((series.Id, windowMs)))
        {
            Windows.Add((series, window.Value));
            if (windows.Count > limits.MaxWindows)
            {
                Error(c.Position, "limit", $"A rule may use at most {limits.MaxWindows} windowed aggregates.");
                return Bound.Error(c);
            }
        }

        var id = series.Id;
        var empty = kind is AggregateKind.Count or AggregateKind.Distinct or AggregateKind.Sum ? 0d : double.NaN;
        Func<RuleSubject, long, double> value = (s, n) => s.Windows is { } w ? w.Aggregate(id, kind, n - windowMs, n) : empty;
        var type = kind is AggregateKind.Count or AggregateKind.Distinct ? RuleType.Number : source.ValueType!.Value;
        var detail = $"{source.Name}.{c.Name} over {FormatWindow(window.Value)}{string.Concat(filters.Select(f => $", {f.Key} = {f.Value}"))} (series {series.Key})";
        var bound = new Bound(c, c.Name is "any" or "none" ? RuleType.Boolean : type)
        {
            TimeDependent = true,
            Next = (s, n) => s.Windows is { } w ? w.NextExpiry(id, windowMs, n) : long.MaxValue,
            Detail = detail,
        };
        if (c.Name == "any")
        {
            bound.B = (s, n) => value(s, n) > 0;
        }
        else if (c.Name == "none")
        {
            bound.B = (s, n) => !(value(s, n) > 0);
        }
        else
        {
            bound.N = value;
        }

        return bound;
    }

    private static string FormatWindow(Duration d) => d.TotalDays >= 1 && d.TotalDays % 1 == 0 ? $"{d.TotalDays:0}d" : $"{d.TotalHours:0}h";

    private Bound Unary(UnaryNode u)
    {
        var x = Bind(u.Operand);
        if (x.Type == RuleType.Error)
        {
            return Bound.Error(u);
        }

        if (u.Operator == "not")
        {
            if (x.Type != RuleType.Boolean)
            {
                Error(u.Operand.Position, "type_mismatch", $"'not' expects a condition, not {Name(x.Type)}.");
                return Bound.Error(u);
            }

            var f = x.B!;
            return new Bound(u, RuleType.Boolean, x) { B = (s, n) => !f(s, n), TimeDependent = x.TimeDependent, Next = Bound.MinNext([x]), Constant = x.Constant };
        }

        if (x.Type is not (RuleType.Number or RuleType.Money or RuleType.Duration))
        {
            Error(u.Operand.Position, "type_mismatch", $"'-' expects a number, money or a duration, not {Name(x.Type)}.");
            return Bound.Error(u);
        }

        var g = x.N!;
        return new Bound(u, x.Type, x) { N = (s, n) => -g(s, n), TimeDependent = x.TimeDependent, Next = Bound.MinNext([x]), Constant = x.Constant };
    }

    private Bound Binary(BinaryNode b)
    {
        var l = Bind(b.Left);
        var r = Bind(b.Right);
        if (l.Type == RuleType.Error || r.Type == RuleType.Error)
        {
            return Bound.Error(b);
        }

        return b.Operator switch
        {
            "and" or "or" => Logical(b, l, r),
            "==" or "!=" or "<" or "<=" or ">" or ">=" => Compare(b, l, r),
            "??" => Coalesce(b, l, r),
            _ => Arithmetic(b, l, r),
        };
    }

    private Bound Logical(BinaryNode b, Bound l, Bound r)
    {
        var ok = true;
        foreach (var (side, node) in new[] { (l, b.Left), (r, b.Right) })
        {
            if (side.Type != RuleType.Boolean)
            {
                Error(node.Position, "type_mismatch", $"'{b.Operator}' combines conditions; this is {Name(side.Type)}.");
                ok = false;
            }
        }

        if (!ok)
        {
            return Bound.Error(b);
        }

        var (f, g) = (l.B!, r.B!);
        return new Bound(b, RuleType.Boolean, l, r)
        {
            B = b.Operator == "and" ? (s, n) => f(s, n) && g(s, n) : (s, n) => f(s, n) || g(s, n),
            TimeDependent = l.TimeDependent || r.TimeDependent,
            Next = Bound.MinNext([l, r]),
        };
    }

    private Bound Compare(BinaryNode b, Bound l, Bound r)
    {
        if (l.Type == RuleType.Null || r.Type == RuleType.Null)
        {
            Error(b.Position, "null_comparison", $"Comparing with null is never true: write '{(l.Type == RuleType.Null ? b.Right : b.Left)} is {(b.Operator == "!=" ? "not " : "")}null'.");
            return Bound.Error(b);
        }

        if (l.Type != r.Type)
        {
            var hint = (l.Type, r.Type) switch
            {
                (RuleType.Money, RuleType.Number) or (RuleType.Number, RuleType.Money) => $" Write the amount with a currency, e.g. 50 {schema.BaseCurrency.Code}.",
                (RuleType.Timestamp, RuleType.Date) or (RuleType.Date, RuleType.Timestamp) => " Use date(…) to take the date of a timestamp.",
                (RuleType.Duration, RuleType.Number) or (RuleType.Number, RuleType.Duration) => " Write a duration with a unit, e.g. 30d, or use days_since(…).",
                _ => "",
            };
            Error(b.Position, "type_mismatch", $"Cannot compare {Name(l.Type)} with {Name(r.Type)} using '{b.Operator}'.{hint}");
            return Bound.Error(b);
        }

        var op = b.Operator;
        var bound = new Bound(b, RuleType.Boolean, l, r) { TimeDependent = l.TimeDependent || r.TimeDependent, Next = Bound.MinNext([l, r]) };
        switch (l.Type)
        {
            case RuleType.Boolean:
                {
                    if (op is not ("==" or "!="))
                    {
                        Error(b.Position, "type_mismatch", $"Conditions can only be compared with == or !=, not '{op}'.");
                        return Bound.Error(b);
                    }

                    var (f, g) = (l.B!, r.B!);
                    bound.B = op == "==" ? (s, n) => f(s, n) == g(s, n) : (s, n) => f(s, n) != g(s, n);
                    return bound;
                }

            case RuleType.String:
                {
                    if (op is not ("==" or "!="))
                    {
                        Error(b.Position, "type_mismatch", $"Text can only be compared with == or != (or 'in'), not '{op}'.");
                        return Bound.Error(b);
                    }

                    var (f, g) = (l.S!, r.S!);
                    bound.B = op == "=="
                        ? (s, n) => f(s, n) is { } x && g(s, n) is { } y && string.Equals(x, y, StringComparison.OrdinalIgnoreCase)
                        : (s, n) => f(s, n) is { } x && g(s, n) is { } y && !string.Equals(x, y, StringComparison.OrdinalIgnoreCase);
                    return bound;
                }

            default:
                {
                    var (f, g) = (l.N!, r.N!);
                    bound.B = op switch
                    {
                        "==" => (s, n) => f(s, n) == g(s, n),
                        "!=" => (s, n) =>
                        {
                            var x = f(s, n);
                            var y = g(s, n);
                            return !double.IsNaN(x) && !double.IsNaN(y) && x != y;
                        },
                        "<" => (s, n) => f(s, n) < g(s, n),
                        "<=" => (s, n) => f(s, n) <= g(s, n),
                        ">" => (s, n) => f(s, n) > g(s, n),
                        _ => (s, n) => f(s, n) >= g(s, n),
                    };
                    var (down, level) = l.Falling && !r.TimeDependent ? (l, r) : r.Falling && !l.TimeDependent ? (r, l) : (null, null);
                    if (down is not null && level is not null)
                    {
                        // A countdown (days until a birthday) falls by one each local midnight and wraps after 0: the
                        // result can change only when it reaches the threshold or wraps.
                        var (countdown, threshold) = (down.N!, level.N!);
                        bound.Next = (s, n) =>
                        {
                            var v = countdown(s, n);
                            var c = threshold(s, n);
                            if (double.IsNaN(v) || double.IsNaN(c))
                            {
                                return long.MaxValue;
                            }

                            var days = v + 1;
                            var up = Math.Ceiling(c);
                            if (v > up)
                            {
                                days = Math.Min(days, v - up);
                            }

                            if (v > up - 1)
                            {
                                days = Math.Min(days, v - up + 1);
                            }

                            var midnight = RuleTime.NextLocalMidnight(n, s.Zone);
                            return midnight + ((long)Math.Max(0, days - 1) * RuleTime.DayMs);
                        };
                        return bound;
                    }

                    var (mono, other) = l.WhenReaches is not null && !r.TimeDependent ? (l, r) : r.WhenReaches is not null && !l.TimeDependent ? (r, l) : (null, null);
                    if (mono is not null && other is not null)
                    {
                        // The value only grows with time: the result can change only when it reaches the threshold.
                        var (when, current, threshold) = (mono.WhenReaches!, mono.N!, other.N!);
                        var fallback = Bound.MinNext(mono.Children);
                        bound.Next = (s, n) =>
                        {
                            var v = current(s, n);
                            var c = threshold(s, n);
                            if (double.IsNaN(v) || double.IsNaN(c))
                            {
                                return fallback(s, n);
                            }

                            var next = fallback(s, n);
                            var up = Math.Ceiling(c);
                            if (v < up)
                            {
                                next = Math.Min(next, when(s, n, up));
                            }

                            var above = Math.Floor(c) + (mono.Type == RuleType.Number ? 1 : 0.001);
                            if (v < above)
                            {
                                next = Math.Min(next, when(s, n, above));
                            }

                            return next;
                        };
                    }

                    return bound;
                }
        }
    }

    private Bound Coalesce(BinaryNode b, Bound l, Bound r)
    {
        if (l.Type == RuleType.Boolean)
        {
            Error(b.Left.Position, "type_mismatch", "A condition is never null: '??' is not needed.");
            return Bound.Error(b);
        }

        if (l.Type != r.Type || r.Type == RuleType.Null)
        {
            Error(b.Right.Position, "type_mismatch", $"The default after '??' must be {Name(l.Type)}, like the value before it; this is {Name(r.Type)}.");
            return Bound.Error(b);
        }

        var bound = new Bound(b, l.Type, l, r) { TimeDependent = l.TimeDependent || r.TimeDependent, Next = Bound.MinNext([l, r]) };
        if (l.Type == RuleType.String)
        {
            var (f, g) = (l.S!, r.S!);
            bound.S = (s, n) => f(s, n) ?? g(s, n);
        }
        else
        {
            var (f, g) = (l.N!, r.N!);
            bound.N = (s, n) =>
            {
                var x = f(s, n);
                return double.IsNaN(x) ? g(s, n) : x;
            };
        }

        return bound;
    }

    private Bound Arithmetic(BinaryNode b, Bound l, Bound r)
    {
        var op = b.Operator;
        RuleType? result = (op, l.Type, r.Type) switch
        {
            ("+" or "-", RuleType.Number, RuleType.Number) => RuleType.Number,
            ("+" or "-", RuleType.Money, RuleType.Money) => RuleType.Money,
            ("+" or "-", RuleType.Duration, RuleType.Duration) => RuleType.Duration,
            ("+" or "-", RuleType.Timestamp, RuleType.Duration) => RuleType.Timestamp,
            ("+", RuleType.Duration, RuleType.Timestamp) => RuleType.Timestamp,
            ("-", RuleType.Timestamp, RuleType.Timestamp) => RuleType.Duration,
            ("*" or "/", RuleType.Number, RuleType.Number) => RuleType.Number,
            ("*", RuleType.Money, RuleType.Number) or ("*", RuleType.Number, RuleType.Money) or ("/", RuleType.Money, RuleType.Number) => RuleType.Money,
            ("*", RuleType.Duration, RuleType.Number) or ("*", RuleType.Number, RuleType.Duration) or ("/", RuleType.Duration, RuleType.Number) => RuleType.Duration,
            ("/", RuleType.Money, RuleType.Money) or ("/", RuleType.Duration, RuleType.Duration) => RuleType.Number,
            _ => null,
        };
        if (result is null)
        {
            Error(b.Position, "type_mismatch", $"'{op}' cannot combine {Name(l.Type)} and {Name(r.Type)}.");
            return Bound.Error(b);
        }

        var (f, g) = (l.N!, r.N!);
        var bound = new Bound(b, result.Value, l, r)
        {
            N = op switch
            {
                "+" => (s, n) => f(s, n) + g(s, n),
                "-" => (s, n) => f(s, n) - g(s, n),
                "*" => (s, n) => f(s, n) * g(s, n),
                _ => (s, n) =>
                {
                    var d = g(s, n);
                    return d == 0 ? double.NaN : f(s, n) / d;
                },
            },
            TimeDependent = l.TimeDependent || r.TimeDependent,
            Next = Bound.MinNext([l, r]),
        };

        // Time-monotonic arithmetic: (grows with time) ± (constant in time) still grows with time.
        if (op is "+" or "-" && l.WhenReaches is { } when && !r.TimeDependent)
        {
            var sign = op == "+" ? -1 : 1;
            bound.WhenReaches = (s, n, target) => when(s, n, target + (sign * g(s, n)));
        }

        return bound;
    }

    private Bound In(InNode n)
    {
        var x = Bind(n.Value);
        if (n.List.Items.Count > limits.MaxListItems)
        {
            Error(n.List.Position, "limit", $"A list holds at most {limits.MaxListItems} items.");
            return Bound.Error(n);
        }

        var items = n.List.Items.Select(Bind).ToArray();
        if (x.Type == RuleType.Error || items.Any(i => i.Type == RuleType.Error))
        {
            return Bound.Error(n);
        }

        if (x.Type is RuleType.Boolean or RuleType.Null)
        {
            Error(n.Value.Position, "type_mismatch", $"'in' tests a value, not {Name(x.Type)}.");
            return Bound.Error(n);
        }

        var ok = true;
        for (var i = 0; i < items.Length; i++)
        {
            if (!items[i].Constant)
            {
                Error(n.List.Items[i].Position, "type_mismatch", "List items must be literals.");
                ok = false;
            }
            else if (items[i].Type != x.Type)
            {
                Error(n.List.Items[i].Position, "type_mismatch", $"The list item is {Name(items[i].Type)} but the value is {Name(x.Type)}.");
                ok = false;
            }
        }

        if (!ok)
        {
            return Bound.Error(n);
        }

        var negated = n.Negated;
        var bound = new Bound(n, RuleType.Boolean, [x, .. items]) { TimeDependent = x.TimeDependent, Next = Bound.MinNext([x]) };
        if (x.Type == RuleType.String)
        {
            var values = items.Select(i => i.S!(null!, 0)!).ToArray();
            var f = x.S!;
            bound.B = (s, t) =>
            {
                var v = f(s, t);
                if (v is null)
                {
                    return false;
                }

                foreach (var item in values)
                {
                    if (string.Equals(item, v, StringComparison.OrdinalIgnoreCase))
                    {
                        return !negated;
                    }
                }

                return negated;
            };
        }
        else
        {
            var values = items.Select(i => i.N!(null!, 0)).ToArray();
            var f = x.N!;
            bound.B = (s, t) =>
            {
                var v = f(s, t);
                if (double.IsNaN(v))
                {
                    return false;
                }

                return Array.IndexOf(values, v) >= 0 != negated;
            };
        }

        return bound;
    }

    private Bound IsNull(IsNullNode n)
    {
        var x = Bind(n.Operand);
        if (x.Type == RuleType.Error)
        {
            return Bound.Error(n);
        }

        if (x.Type == RuleType.Boolean)
        {
            Error(n.Operand.Position, "type_mismatch", "A condition is never null (unknown reads as false).");
            return Bound.Error(n);
        }

        var negated = n.Negated;
        var bound = new Bound(n, RuleType.Boolean, x) { TimeDependent = x.TimeDependent, Next = Bound.MinNext([x]) };
        if (x.Type == RuleType.String)
        {
            var f = x.S!;
            bound.B = (s, t) => f(s, t) is null != negated;
        }
        else
        {
            var f = x.N!;
            bound.B = (s, t) => double.IsNaN(f(s, t)) != negated;
        }

        return bound;
    }

    private void BindAll(IEnumerable<RuleNode> nodes)
    {
        foreach (var node in nodes)
        {
            Bind(node);
        }
    }

    private bool Arity(CallNode c, int min, int max)
    {
        if (c.Arguments.Count >= min && c.Arguments.Count <= max)
        {
            return true;
        }

        var expected = min == max ? $"{min} argument{(min == 1 ? "" : "s")}" : $"{min} to {max} arguments";
        Error(c.Position, "arguments", $"'{c.Name}' takes {expected}; {c.Arguments.Count} given.");
        return false;
    }

    private void Error(RulePosition at, string code, string message, string? suggestion = null) => Errors.Add(RuleError.At(at, code, message, suggestion));

    private static string Describe(IReadOnlyList<RuleParameter> parameters) =>
        string.Join(" and ", parameters.Select(p => p.Values is null ? p.Name : $"{p.Name} ({string.Join(", ", p.Values)})"));

    internal static string Name(RuleType type) => type switch
    {
        RuleType.Boolean => "a condition",
        RuleType.Number => "a number",
        RuleType.String => "text",
        RuleType.Money => "money",
        RuleType.Duration => "a duration",
        RuleType.Date => "a date",
        RuleType.Timestamp => "a timestamp",
        RuleType.Null => "null",
        _ => "an invalid expression",
    };

    /// <summary>The closest candidate by edit distance, if close enough.</summary>
    internal static string? Suggest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var d = Distance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance)
            {
                (best, bestDistance) = (candidate, d);
            }
        }

        return best is not null && bestDistance <= Math.Max(1, Math.Min(3, name.Length / 3)) ? best : null;
    }

    /// <summary>Optimal-string-alignment distance (Levenshtein with transpositions).</summary>
    internal static int Distance(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64)
        {
            return int.MaxValue;
        }

        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    internal static string FormatNumber(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
