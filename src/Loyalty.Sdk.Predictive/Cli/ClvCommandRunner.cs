using System.Buffers;
using System.Text;
using System.Text.Json;
using NodaTime;

namespace Loyalty.Sdk.Predictive.Cli;

/// <summary>Inputs of the <c>loyalty clv</c> command.</summary>
public sealed record ClvOptions
{
    /// <summary><c>--summary FILE.csv</c>: a summary file (<c>ID,frequency,recency,T[,monetary]</c> or <c>ID,x,t_x,T,zbar</c>).</summary>
    public string? SummaryPath { get; init; }

    /// <summary><c>--transactions FILE.csv</c>: a transactions file with a header row.</summary>
    public string? TransactionsPath { get; init; }

    /// <summary><c>--customer-col</c>: the customer id column of the transactions file.</summary>
    public string? CustomerColumn { get; init; }

    /// <summary><c>--date-col</c>: the date column of the transactions file.</summary>
    public string? DateColumn { get; init; }

    /// <summary><c>--amount-col</c>: the amount column of the transactions file (optional; without it no spend model is fitted).</summary>
    public string? AmountColumn { get; init; }

    /// <summary><c>--calibration-end</c>: the last day (inclusive) of the observation period for transactions.</summary>
    public LocalDate? CalibrationEnd { get; init; }

    /// <summary><c>--time-unit</c>: the unit of the summary file and of the horizon (default weeks).</summary>
    public TimeUnit TimeUnit { get; init; } = TimeUnit.Week;

    /// <summary><c>--horizon</c>: the horizon in whole time units for expected purchases and CLV (default one year: 52 weeks, 12 months, 365 days).</summary>
    public int? Horizon { get; init; }

    /// <summary>
    /// <c>--discount-rate</c>: the discount rate per time unit. The default is the equivalent of 1% per 30-day month,
    /// (1.01)^(unit days / 30) - 1, which is about 0.00232 per week.
    /// </summary>
    public double? DiscountRate { get; init; }

    /// <summary><c>--penalizer</c>: the L2 penalizer used for both fits (default 0).</summary>
    public double Penalizer { get; init; }

    /// <summary>The horizon actually used.</summary>
    public int EffectiveHorizon => Horizon ?? TimeUnit.UnitsPerYear;

    /// <summary>The discount rate actually used.</summary>
    public double EffectiveDiscountRate => DiscountRate ?? TimeUnit.DiscountRateFromMonthly(0.01);
}

/// <summary>One customer's line of the CLV output.</summary>
/// <param name="Id">The customer id.</param>
/// <param name="Score">The customer's scores (P(alive), expected purchases over the horizon, expected spend, CLV).</param>
/// <param name="ClvPercentile">The CLV percentile rank among all customers (0 to 100); NaN without a spend model.</param>
public sealed record CustomerClv(string Id, CustomerScore Score, double ClvPercentile);

/// <summary>The outcome of <see cref="ClvCommandRunner.Run"/>.</summary>
/// <param name="BgNbd">The BG/NBD fit.</param>
/// <param name="GammaGamma">The Gamma-Gamma fit, or null when there is no monetary information.</param>
/// <param name="Customers">The scored customers, in input order.</param>
/// <param name="TimeUnit">The time unit used.</param>
/// <param name="Horizon">The horizon in time units.</param>
/// <param name="DiscountRate">The discount rate per time unit.</param>
public sealed record ClvResult(
    BgNbdFitResult BgNbd,
    GammaGammaFitResult? GammaGamma,
    IReadOnlyList<CustomerClv> Customers,
    TimeUnit TimeUnit,
    int Horizon,
    double DiscountRate);

/// <summary>
/// The <c>loyalty clv</c> command: reads summaries or transactions, fits BG/NBD and Gamma-Gamma, scores every customer and
/// writes JSON <c>{"settings": {...}, "bgnbd": {...}, "gammaGamma": {...}, "customers": [...]}</c>.
/// </summary>
public static class ClvCommandRunner
{
    /// <summary>Runs the command.</summary>
    /// <param name="options">The command options.</param>
    /// <param name="output">Receives the JSON document.</param>
    /// <param name="cancellationToken">Cancels reading, fitting and scoring.</param>
    /// <returns>The fits and scores that were written.</returns>
    /// <exception cref="ArgumentException">The options are inconsistent (for example both or neither input file).</exception>
    /// <exception cref="PredictiveInputException">An input file is malformed.</exception>
    public static ClvResult Run(ClvOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        var (customers, hasMonetary) = Load(options);
        if (customers.Count == 0)
        {
            throw new PredictiveInputException("the input contains no customers.", options.SummaryPath ?? options.TransactionsPath, 1, null, null);
        }

        var horizon = options.EffectiveHorizon;
        if (horizon < 1)
        {
            throw new ArgumentException("The horizon must be at least one time unit.", nameof(options));
        }

        var discount = options.EffectiveDiscountRate;
        var fitOptions = new FitOptions { Penalizer = options.Penalizer };
        var array = customers as CustomerSummary[] ?? [.. customers];
        var bgnbd = BgNbdModel.Fit(array, fitOptions, cancellationToken);
        GammaGammaFitResult? gammaGamma = null;
        if (hasMonetary && array.Count(c => c.Frequency > 0 && c.MonetaryValue > 0) >= 2)
        {
            gammaGamma = GammaGammaModel.Fit(array, fitOptions, cancellationToken: cancellationToken);
        }

        var scorer = new CustomerScorer(
            bgnbd.Model,
            gammaGamma?.Model,
            new ScoringOptions { TimeUnit = options.TimeUnit, PurchaseHorizon = horizon, ClvPeriods = horizon, DiscountRate = discount });
        var scores = new CustomerScore[array.Length];
        scorer.Score(array, scores);
        cancellationToken.ThrowIfCancellationRequested();
        var percentiles = gammaGamma is null
            ? Enumerable.Repeat(double.NaN, array.Length).ToArray()
            : ClvCalculator.PercentileRanks(scores.Select(s => s.Clv).ToArray());
        var lines = new CustomerClv[array.Length];
        for (var i = 0; i < array.Length; i++)
        {
            lines[i] = new CustomerClv(array[i].Id, scores[i], percentiles[i]);
        }

        var result = new ClvResult(bgnbd, gammaGamma, lines, options.TimeUnit, horizon, discount);
        Write(result, output, cancellationToken);
        return result;
    }

    private static (IReadOnlyList<CustomerSummary> Customers, bool HasMonetary) Load(ClvOptions options)
    {
        var hasSummary = !string.IsNullOrWhiteSpace(options.SummaryPath);
        var hasTransactions = !string.IsNullOrWhiteSpace(options.TransactionsPath);
        if (hasSummary == hasTransactions)
        {
            throw new ArgumentException("Give exactly one of --summary or --transactions.", nameof(options));
        }

        if (hasSummary)
        {
            using var reader = new StreamReader(options.SummaryPath!, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            return CsvInput.ReadSummaries(reader, options.SummaryPath);
        }

        if (string.IsNullOrWhiteSpace(options.CustomerColumn) || string.IsNullOrWhiteSpace(options.DateColumn))
        {
            throw new ArgumentException("--transactions needs --customer-col and --date-col.", nameof(options));
        }

        if (options.CalibrationEnd is not { } end)
        {
            throw new ArgumentException("--transactions needs --calibration-end.", nameof(options));
        }

        using (var reader = new StreamReader(options.TransactionsPath!, Encoding.UTF8, detectEncodingFromByteOrderMarks: true))
        {
            var transactions = CsvInput.ReadTransactions(reader, options.CustomerColumn, options.DateColumn, options.AmountColumn, options.TransactionsPath);
            var summaries = SummaryBuilder.Build(transactions, end, options.TimeUnit);
            return (summaries, options.AmountColumn is not null);
        }
    }

    private static void Write(ClvResult result, TextWriter output, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false });
        json.WriteStartObject();
        json.WriteStartObject("settings");
        json.WriteString("timeUnit", result.TimeUnit.Name);
        json.WriteNumber("horizon", result.Horizon);
        json.WriteNumber("discountRate", result.DiscountRate);
        json.WriteEndObject();

        var bg = result.BgNbd;
        json.WriteStartObject("bgnbd");
        json.WriteNumber("r", bg.Model.R);
        json.WriteNumber("alpha", bg.Model.Alpha);
        json.WriteNumber("a", bg.Model.A);
        json.WriteNumber("b", bg.Model.B);
        json.WriteNumber("logLikelihood", bg.LogLikelihood);
        json.WriteEndObject();

        if (result.GammaGamma is { } gg)
        {
            json.WriteStartObject("gammaGamma");
            json.WriteNumber("p", gg.Model.P);
            json.WriteNumber("q", gg.Model.Q);
            json.WriteNumber("v", gg.Model.V);
            json.WriteNumber("logLikelihood", gg.LogLikelihood);
            json.WriteNumber("frequencySpendCorrelation", gg.FrequencySpendCorrelation);
            json.WriteBoolean("correlationWarning", gg.CorrelationWarning);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("gammaGamma");
        }

        json.WriteStartArray("customers");
        for (var i = 0; i < result.Customers.Count; i++)
        {
            var c = result.Customers[i];
            json.WriteStartObject();
            json.WriteString("id", c.Id);
            Number(json, "pAlive", c.Score.ProbabilityAlive);
            Number(json, "expectedPurchases", c.Score.ExpectedPurchases);
            Number(json, "expectedSpend", c.Score.ExpectedSpend);
            Number(json, "clv", c.Score.Clv);
            json.WriteEndObject();
            if ((i & 1023) == 1023)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Flush(json, buffer, output);
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
        Flush(json, buffer, output);
        output.Flush();
    }

    private static void Number(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void Flush(Utf8JsonWriter json, ArrayBufferWriter<byte> buffer, TextWriter output)
    {
        json.Flush();
        output.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        buffer.ResetWrittenCount();
    }
}
