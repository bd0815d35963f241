using System.Globalization;
using System.Runtime.CompilerServices;
using Loyalty.Sdk.Predictive.Internal;

namespace Loyalty.Sdk.Predictive;

/// <summary>What to compute when scoring customers.</summary>
public sealed record ScoringOptions
{
    /// <summary>The time unit the models were fitted in and the summaries are expressed in.</summary>
    public TimeUnit TimeUnit { get; init; } = TimeUnit.Week;

    /// <summary>The horizon of <see cref="CustomerScore.ExpectedPurchases"/>, in time units (for example 90 days = 90/7 weeks).</summary>
    public double PurchaseHorizon { get; init => field = Guard.NonNegative(value, nameof(PurchaseHorizon)); } = 52;

    /// <summary>The CLV horizon as a whole number of time-unit periods (52 weeks, 12 months, 365 days for one year).</summary>
    public int ClvPeriods
    {
        get;
        init => field = value is >= 0 and <= 100_000 ? value : throw new ArgumentOutOfRangeException(nameof(ClvPeriods), value, "Use 0 to 100,000 periods.");
    } = 52;

    /// <summary>
    /// The discount rate per time-unit period (purchases in period i are discounted by (1 + rate)^-i). The conventional
    /// 1% per month in weekly periods is <c>TimeUnit.Week.DiscountRateFromMonthly(0.01)</c> ≈ 0.00232.
    /// </summary>
    public double DiscountRate { get; init => field = double.IsFinite(value) && value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(DiscountRate), value, "The discount rate must be a non-negative number."); } = 0.01;

    /// <summary>Options for <paramref name="unit"/> with a one-year CLV, the given purchase horizon and 1% per month discounting.</summary>
    /// <param name="unit">The time unit.</param>
    /// <param name="purchaseHorizonDays">The horizon of the expected-purchases score in days (default 90).</param>
    /// <returns>The options.</returns>
    public static ScoringOptions ForUnit(TimeUnit unit, double purchaseHorizonDays = 90)
    {
        ArgumentNullException.ThrowIfNull(unit);
        return new ScoringOptions
        {
            TimeUnit = unit,
            PurchaseHorizon = unit.FromDays(purchaseHorizonDays),
            ClvPeriods = unit.UnitsPerYear,
            DiscountRate = unit.DiscountRateFromMonthly(0.01),
        };
    }
}

/// <summary>The scores of one customer.</summary>
/// <param name="ProbabilityAlive">P(alive) at the end of the observation period, in [0, 1].</param>
/// <param name="ExpectedPurchases">Expected purchases in the next <see cref="ScoringOptions.PurchaseHorizon"/> time units.</param>
/// <param name="DiscountedExpectedPurchases">Σ over the CLV periods of the expected purchases in each period times (1 + rate)^-i.</param>
/// <param name="ExpectedSpend">Expected spend per future purchase (Gamma-Gamma); NaN without a spend model.</param>
/// <param name="Clv">Customer lifetime value over the CLV horizon: discounted expected purchases × expected spend; NaN without a spend model.</param>
public readonly record struct CustomerScore(
    double ProbabilityAlive,
    double ExpectedPurchases,
    double DiscountedExpectedPurchases,
    double ExpectedSpend,
    double Clv);

/// <summary>
/// Scores customers with a fitted BG/NBD model and an optional Gamma-Gamma spend model: P(alive), expected purchases over a
/// horizon, expected spend and discounted CLV. Immutable and thread-safe; batch scoring allocates only per distinct customer
/// age T (not per customer).
/// </summary>
/// <remarks>
/// The CLV follows the usual discrete approach: CLV = spend × Σ_{i=1..H} (E[Y(i)] - E[Y(i-1)]) / (1 + d)^i, where E[Y(t)] is the
/// conditional expected number of purchases in the next t periods. For speed, the Euler-transformed hypergeometric series
/// behind E[Y(t)] is rearranged so that everything depending only on T (and the discount weights) is computed once per distinct
/// T; each customer then costs one short series with no transcendental calls besides two logarithms and one exponential.
/// </remarks>
public sealed class CustomerScorer
{
    private const int MaxCachedAges = 16_384;
    private readonly double _r;
    private readonly double _alpha;
    private readonly double _a;
    private readonly double _b;
    private readonly double _logA;
    private readonly double _seriesA;
    private readonly double _seriesB;
    private readonly double _c0;
    private readonly bool _hasSpend;
    private readonly double _p;
    private readonly double _q;
    private readonly double _v;
    private readonly double[] _discountWeights;
    private readonly double _horizon;

    /// <summary>Creates a scorer.</summary>
    /// <param name="purchases">The fitted BG/NBD model.</param>
    /// <param name="spend">The fitted Gamma-Gamma model, or null to score purchases only.</param>
    /// <param name="options">Scoring options; weekly, 52-week horizons and 1% per week when null.</param>
    public CustomerScorer(BgNbdModel purchases, GammaGammaModel? spend, ScoringOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(purchases);
        Options = options ?? new ScoringOptions();
        Purchases = purchases;
        Spend = spend;
        _r = purchases.R;
        _alpha = purchases.Alpha;
        _a = purchases.A;
        _b = purchases.B;
        _logA = Math.Log(_a);
        _seriesA = _a + _b - 1 - _r;
        _seriesB = _a - 1;
        _c0 = _a + _b - 1;
        _hasSpend = spend is not null;
        if (spend is not null)
        {
            _p = spend.P;
            _q = spend.Q;
            _v = spend.V;
        }

        // CLV = Σ_i u_i (Q(i) - Q(i-1)) = Σ_i w_i Q(i) with u_i = (1+d)^-i and w_i = u_i - u_(i+1), u_(H+1) = 0.
        var periods = Options.ClvPeriods;
        _discountWeights = new double[periods];
        for (var i = 1; i <= periods; i++)
        {
            var ui = Math.Pow(1 + Options.DiscountRate, -i);
            var next = i == periods ? 0 : Math.Pow(1 + Options.DiscountRate, -(i + 1));
            _discountWeights[i - 1] = ui - next;
        }

        _horizon = Options.PurchaseHorizon;
    }

    /// <summary>The purchase model.</summary>
    public BgNbdModel Purchases { get; }

    /// <summary>The spend model, if any.</summary>
    public GammaGammaModel? Spend { get; }

    /// <summary>The scoring options.</summary>
    public ScoringOptions Options { get; }

    /// <summary>Scores one customer.</summary>
    /// <param name="customer">The customer's summary.</param>
    /// <returns>The scores.</returns>
    public CustomerScore Score(in CustomerSummary customer)
    {
        customer.Validate();
        var table = new AgeTable();
        BuildTable(customer.T, table);
        return ScoreWith(customer, table);
    }

    /// <summary>Scores many customers into <paramref name="results"/> (same length); allocation-free per customer.</summary>
    /// <param name="customers">The customers.</param>
    /// <param name="results">Receives one score per customer, in order.</param>
    /// <exception cref="ArgumentException">The spans differ in length or a summary is invalid.</exception>
    public void Score(ReadOnlySpan<CustomerSummary> customers, Span<CustomerScore> results)
    {
        if (results.Length != customers.Length)
        {
            throw new ArgumentException("The results span must have the same length as the customers span.", nameof(results));
        }

        var cache = new Dictionary<double, AgeTable>();
        var scratch = new AgeTable();
        for (var i = 0; i < customers.Length; i++)
        {
            ref readonly var c = ref customers[i];
            if (!CustomerSummary.IsValid(c.Frequency, c.Recency, c.T, c.MonetaryValue, out var problem))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Customer {i} ('{c.Id}'): {problem}"), nameof(customers));
            }

            if (!cache.TryGetValue(c.T, out var table))
            {
                if (cache.Count < MaxCachedAges)
                {
                    table = new AgeTable();
                    BuildTable(c.T, table);
                    cache.Add(c.T, table);
                }
                else
                {
                    table = scratch;
                    BuildTable(c.T, table);
                }
            }

            results[i] = ScoreWith(c, table);
        }
    }

    /// <summary>Scores many customers using several threads (workers score large contiguous chunks).</summary>
    /// <param name="customers">The customers.</param>
    /// <param name="results">Receives one score per customer, in order (same length as <paramref name="customers"/>).</param>
    /// <param name="maxDegreeOfParallelism">The maximum number of workers; -1 for the runtime default.</param>
    /// <param name="cancellationToken">Cancels the scoring between chunks.</param>
    public void ScoreParallel(CustomerSummary[] customers, CustomerScore[] results, int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(customers);
        ArgumentNullException.ThrowIfNull(results);
        if (results.Length != customers.Length)
        {
            throw new ArgumentException("The results array must have the same length as the customers array.", nameof(results));
        }

        // Few large chunks: each worker builds its own per-age tables once per chunk.
        var workers = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount;
        var chunk = Math.Max(65_536, (customers.Length + (2 * workers) - 1) / (2 * workers));
        var chunks = (customers.Length + chunk - 1) / chunk;
        Parallel.For(
            0,
            chunks,
            new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism, CancellationToken = cancellationToken },
            k =>
            {
                var start = k * chunk;
                var length = Math.Min(chunk, customers.Length - start);
                Score(customers.AsSpan(start, length), results.AsSpan(start, length));
            });
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private CustomerScore ScoreWith(in CustomerSummary c, AgeTable table)
    {
        var x = c.Frequency;
        var alive = 1.0;
        if (x > 0)
        {
            var d = _logA - Math.Log(_b + x - 1) + ((_r + x) * (table.LogAlphaT - Math.Log(_alpha + c.Recency)));
            alive = NumericMath.InverseOnePlusExp(d);
        }

        // Σ_{n≥1} c_n M_n with c_1 = A/C, c_(n+1) = c_n (A+n)(B+n)/((C+n)(n+1)); M holds interleaved CLV and horizon moments.
        var cc = _c0 + x;
        var aa = _seriesA;
        var bb = _seriesB;
        var moments = table.Moments;
        var terms = table.Terms;
        var coefficient = aa / cc;
        var clvSum = coefficient * moments[0];
        var horizonSum = coefficient * moments[1];
        var threshold = 1e-17 * (Math.Abs(table.ClvHead) + Math.Abs(table.HorizonHead));
        for (var n = 1; n < terms; n++)
        {
            var ratio = (aa + n) * (bb + n) / ((cc + n) * (n + 1));
            coefficient *= ratio;
            var m0 = moments[2 * n];
            var m1 = moments[(2 * n) + 1];
            clvSum += coefficient * m0;
            horizonSum += coefficient * m1;
            if (Math.Abs(coefficient) * (m0 + m1) <= threshold && Math.Abs(ratio) < 1)
            {
                break;
            }
        }

        var scale = alive * cc;
        var expectedPurchases = Math.Max(0, scale * (table.HorizonHead - horizonSum));
        var discounted = Math.Max(0, scale * (table.ClvHead - clvSum));
        var spend = double.NaN;
        var clv = double.NaN;
        if (_hasSpend)
        {
            spend = GammaGammaModel.Conditional(_p, _q, _v, x, c.MonetaryValue);
            clv = spend * discounted;
        }

        return new CustomerScore(alive, expectedPurchases, discounted, spend, clv);
    }

    /// <summary>Precomputes everything that depends on T only: ln(α+T), the series heads and the moment sequence.</summary>
    private void BuildTable(double age, AgeTable table)
    {
        var beta = _alpha + age;
        table.LogAlphaT = Math.Log(beta);
        var bb = _seriesB;
        var periods = _discountWeights.Length;
        var count = periods + 1;
        var z = new double[count];
        var w = new double[count];
        var zMax = 0.0;
        double clvHead = 0;
        for (var i = 0; i < periods; i++)
        {
            var t = i + 1.0;
            var logOneMinusZ = -NumericMath.Log1P(t / beta);
            z[i] = t / (beta + t);
            w[i] = _discountWeights[i] * Math.Exp(bb * logOneMinusZ);
            clvHead += _discountWeights[i] * NumericMath.OneMinusPowerOverExponent(bb, logOneMinusZ);
            zMax = Math.Max(zMax, z[i]);
        }

        double horizonHead = 0;
        if (_horizon > 0)
        {
            var logOneMinusZ = -NumericMath.Log1P(_horizon / beta);
            z[periods] = _horizon / (beta + _horizon);
            w[periods] = Math.Exp(bb * logOneMinusZ);
            horizonHead = NumericMath.OneMinusPowerOverExponent(bb, logOneMinusZ);
            zMax = Math.Max(zMax, z[periods]);
        }

        table.ClvHead = clvHead;
        table.HorizonHead = horizonHead;

        // Moments M_n = Σ_i w_i z_i^n for n ≥ 1, long enough for the slowest-converging customer (x = 0).
        var aa = _seriesA;
        var c0 = _c0;
        var threshold = 1e-17 * (Math.Abs(clvHead) + Math.Abs(horizonHead));
        var moments = table.Moments;
        var coefficient = aa / c0;
        var n = 0;
        while (true)
        {
            if (2 * (n + 1) > moments.Length)
            {
                Array.Resize(ref moments, Math.Max(64, moments.Length * 2));
            }

            double clvMoment = 0;
            for (var i = 0; i < periods; i++)
            {
                w[i] *= z[i];
                clvMoment += w[i];
            }

            w[periods] *= z[periods];
            var horizonMoment = _horizon > 0 ? w[periods] : 0;
            moments[2 * n] = clvMoment;
            moments[(2 * n) + 1] = horizonMoment;
            n++;
            if (n > 1)
            {
                var ratio = (aa + n - 1) * (bb + n - 1) / ((c0 + n - 1) * n);
                coefficient *= ratio;
                // Once ratio·zMax < 1 the tail decays geometrically (the ratio only moves towards 1 as n grows), so it
                // can stop; requiring ratio < 1 as well would never stop when a > r + 2.
                if ((Math.Abs(coefficient) * (clvMoment + horizonMoment) <= threshold && Math.Abs(ratio) * zMax < 1)
                    || clvMoment + horizonMoment == 0
                    || n >= BgNbdMath.MaxSeriesTerms)
                {
                    break;
                }
            }
        }

        table.Moments = moments;
        table.Terms = n;
    }

    private sealed class AgeTable
    {
        public double LogAlphaT { get; set; }

        public double ClvHead { get; set; }

        public double HorizonHead { get; set; }

        public double[] Moments { get; set; } = new double[128];

        public int Terms { get; set; }
    }
}
