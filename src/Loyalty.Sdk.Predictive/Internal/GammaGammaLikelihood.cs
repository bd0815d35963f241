using MathNet.Numerics;

namespace Loyalty.Sdk.Predictive.Internal;

/// <summary>The Gamma-Gamma log-likelihood and its analytic gradient, with per-frequency terms shared.</summary>
internal sealed class GammaGammaLikelihood
{
    private readonly double[] _x;
    private readonly double[] _m;
    private readonly double[] _groupX;
    private readonly double[] _groupCount;
    private readonly double _constant;
    private readonly double _xLogM;

    private GammaGammaLikelihood(double[] x, double[] m, double[] groupX, double[] groupCount)
    {
        _x = x;
        _m = m;
        _groupX = groupX;
        _groupCount = groupCount;
        double xLogX = 0, xLogM = 0, logM = 0;
        for (var i = 0; i < x.Length; i++)
        {
            xLogX += x[i] * Math.Log(x[i]);
            xLogM += x[i] * Math.Log(m[i]);
            logM += Math.Log(m[i]);
        }

        // (p x - 1) ln m + p x ln x = p (x ln m + x ln x) - ln m
        _xLogM = xLogM + xLogX;
        _constant = -logM;
        MeanSpend = m.Average();
        FrequencySpendCorrelation = Correlation(x, m);
    }

    public int Count => _x.Length;

    public double MeanSpend { get; }

    public double FrequencySpendCorrelation { get; }

    public static GammaGammaLikelihood Create(ReadOnlySpan<CustomerSummary> customers, CancellationToken cancellationToken)
    {
        var x = new List<double>();
        var m = new List<double>();
        var groups = new Dictionary<double, int>();
        var groupX = new List<double>();
        var groupCount = new List<double>();
        for (var i = 0; i < customers.Length; i++)
        {
            if ((i & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            ref readonly var c = ref customers[i];
            c.Validate();
            if (c.Frequency <= 0 || c.MonetaryValue <= 0)
            {
                continue;
            }

            x.Add(c.Frequency);
            m.Add(c.MonetaryValue);
            if (!groups.TryGetValue(c.Frequency, out var g))
            {
                g = groupX.Count;
                groups.Add(c.Frequency, g);
                groupX.Add(c.Frequency);
                groupCount.Add(0);
            }

            groupCount[g]++;
        }

        if (x.Count < 2)
        {
            throw new ArgumentException("The Gamma-Gamma model needs at least two repeat customers (x > 0) with a positive monetary value.", nameof(customers));
        }

        return new GammaGammaLikelihood([.. x], [.. m], [.. groupX], [.. groupCount]);
    }

    /// <summary>Total log-likelihood; writes d/d(p, q, v) into <paramref name="gradient"/> unless it is empty.</summary>
    public double Evaluate(double p, double q, double v, Span<double> gradient)
    {
        var withGradient = gradient.Length >= 3;
        var n = (double)_x.Length;
        var logV = Math.Log(v);
        double ll = _constant + (p * _xLogM) + (n * ((q * logV) - SpecialFunctions.GammaLn(q)));
        double gp = _xLogM, gq = n * (logV - (withGradient ? SpecialFunctions.DiGamma(q) : 0)), gv = n * q / v;
        for (var i = 0; i < _x.Length; i++)
        {
            var x = _x[i];
            var sum = v + (x * _m[i]);
            var logSum = Math.Log(sum);
            var shape = (p * x) + q;
            ll -= shape * logSum;
            if (withGradient)
            {
                gp -= x * logSum;
                gq -= logSum;
                gv -= shape / sum;
            }
        }

        for (var g = 0; g < _groupX.Length; g++)
        {
            var x = _groupX[g];
            var count = _groupCount[g];
            var px = p * x;
            ll += count * (SpecialFunctions.GammaLn(px + q) - SpecialFunctions.GammaLn(px));
            if (withGradient)
            {
                var psiSum = SpecialFunctions.DiGamma(px + q);
                gp += count * x * (psiSum - SpecialFunctions.DiGamma(px));
                gq += count * psiSum;
            }
        }

        if (withGradient)
        {
            gradient[0] = gp;
            gradient[1] = gq;
            gradient[2] = gv;
        }

        return ll;
    }

    private static double Correlation(double[] x, double[] y)
    {
        var mx = x.Average();
        var my = y.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var dx = x[i] - mx;
            var dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }

        return sxx > 0 && syy > 0 ? sxy / Math.Sqrt(sxx * syy) : double.NaN;
    }
}
