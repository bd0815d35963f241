using MathNet.Numerics;

namespace Loyalty.Sdk.Predictive.Internal;

/// <summary>The BG/NBD log-likelihood and its analytic gradient over a data set, stored column-wise.</summary>
internal sealed class BgNbdLikelihood
{
    private readonly double[] _x;
    private readonly double[] _recency;
    private readonly double[] _age;
    private readonly int[] _group;
    private readonly double[] _groupX;
    private readonly double[] _groupCount;
    private readonly double[] _groupLogB;

    private BgNbdLikelihood(double[] x, double[] recency, double[] age, int[] group, double[] groupX, double[] groupCount)
    {
        _x = x;
        _recency = recency;
        _age = age;
        _group = group;
        _groupX = groupX;
        _groupCount = groupCount;
        _groupLogB = new double[groupX.Length];
        MeanAge = age.Length == 0 ? 0 : age.Average();
    }

    public int Count => _x.Length;

    public double MeanAge { get; }

    public static BgNbdLikelihood Create(ReadOnlySpan<CustomerSummary> customers, CancellationToken cancellationToken)
    {
        if (customers.Length == 0)
        {
            throw new ArgumentException("At least one customer is needed.", nameof(customers));
        }

        var n = customers.Length;
        var x = new double[n];
        var recency = new double[n];
        var age = new double[n];
        var group = new int[n];
        var groups = new Dictionary<double, int>();
        var groupX = new List<double>();
        var groupCount = new List<double>();
        for (var i = 0; i < n; i++)
        {
            if ((i & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            ref readonly var c = ref customers[i];
            c.Validate();
            x[i] = c.Frequency;
            recency[i] = c.Frequency > 0 ? c.Recency : 0;
            age[i] = c.T;
            if (!groups.TryGetValue(c.Frequency, out var g))
            {
                g = groupX.Count;
                groups.Add(c.Frequency, g);
                groupX.Add(c.Frequency);
                groupCount.Add(0);
            }

            group[i] = g;
            groupCount[g]++;
        }

        return new BgNbdLikelihood(x, recency, age, group, [.. groupX], [.. groupCount]);
    }

    /// <summary>Total log-likelihood; writes d/d(r, alpha, a, b) into <paramref name="gradient"/> unless it is empty.</summary>
    public double Evaluate(double r, double alpha, double a, double b, Span<double> gradient)
    {
        var withGradient = gradient.Length >= 4;
        var logAlpha = Math.Log(alpha);
        var logA = Math.Log(a);
        var groupLogB = _groupLogB;
        for (var g = 0; g < groupLogB.Length; g++)
        {
            groupLogB[g] = _groupX[g] > 0 ? Math.Log(b + _groupX[g] - 1) : 0;
        }

        double ll = 0, gr = 0, gAlpha = 0, ga = 0, gb = 0;
        var xs = _x;
        var recency = _recency;
        var age = _age;
        var groups = _group;
        for (var i = 0; i < xs.Length; i++)
        {
            var x = xs[i];
            var alphaT = alpha + age[i];
            var logAlphaT = Math.Log(alphaT);
            ll -= (r + x) * logAlphaT;
            if (withGradient)
            {
                gr -= logAlphaT;
                gAlpha -= (r + x) / alphaT;
            }

            if (x > 0)
            {
                var alphaTx = alpha + recency[i];
                var logRatio = logAlphaT - Math.Log(alphaTx);
                var d = logA - groupLogB[groups[i]] + ((r + x) * logRatio);
                var e = Math.Exp(-Math.Abs(d));
                ll += Math.Max(d, 0) + NumericMath.Log1P(e);
                if (withGradient)
                {
                    var w = d >= 0 ? 1 / (1 + e) : e / (1 + e);
                    gr += w * logRatio;
                    gAlpha += w * (r + x) * ((1 / alphaT) - (1 / alphaTx));
                    ga += w / a;
                    gb -= w / (b + x - 1);
                }
            }
        }

        var n = (double)xs.Length;
        ll += n * r * logAlpha;
        var lnGammaR = SpecialFunctions.GammaLn(r);
        var lnGammaAb = SpecialFunctions.GammaLn(a + b);
        var lnGammaB = SpecialFunctions.GammaLn(b);
        var psiR = withGradient ? SpecialFunctions.DiGamma(r) : 0;
        var psiAb = withGradient ? SpecialFunctions.DiGamma(a + b) : 0;
        var psiB = withGradient ? SpecialFunctions.DiGamma(b) : 0;
        for (var g = 0; g < _groupX.Length; g++)
        {
            var x = _groupX[g];
            var count = _groupCount[g];
            if (x == 0)
            {
                continue;
            }

            ll += count * (SpecialFunctions.GammaLn(r + x) - lnGammaR + lnGammaAb + SpecialFunctions.GammaLn(b + x) - lnGammaB - SpecialFunctions.GammaLn(a + b + x));
            if (withGradient)
            {
                var psiAbx = SpecialFunctions.DiGamma(a + b + x);
                gr += count * (SpecialFunctions.DiGamma(r + x) - psiR);
                ga += count * (psiAb - psiAbx);
                gb += count * (psiAb + SpecialFunctions.DiGamma(b + x) - psiB - psiAbx);
            }
        }

        if (withGradient)
        {
            gradient[0] = gr + (n * logAlpha);
            gradient[1] = gAlpha + (n * r / alpha);
            gradient[2] = ga;
            gradient[3] = gb;
        }

        return ll;
    }
}
