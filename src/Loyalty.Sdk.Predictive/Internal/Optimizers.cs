namespace Loyalty.Sdk.Predictive.Internal;

/// <summary>An objective returning its value and writing its gradient.</summary>
internal delegate double GradientObjective(ReadOnlySpan<double> point, Span<double> gradient);

/// <summary>The outcome of a minimisation.</summary>
internal sealed record MinimizationResult(double[] Point, double Value, int Iterations, bool Converged);

/// <summary>Unconstrained minimisers used by the model fitters (parameters are optimised as logarithms).</summary>
internal static class Optimizers
{
    /// <summary>BFGS with an Armijo backtracking line search, restarting from steepest descent when the curvature fails.</summary>
    public static MinimizationResult Bfgs(
        GradientObjective objective,
        double[] start,
        double gradientTolerance,
        int maxIterations,
        CancellationToken cancellationToken,
        double maxStep = 3.0)
    {
        var n = start.Length;
        var x = (double[])start.Clone();
        var g = new double[n];
        var fx = objective(x, g);
        if (!double.IsFinite(fx))
        {
            throw new ArgumentException("The objective is not finite at the starting point.", nameof(start));
        }

        var h = Identity(n);
        var direction = new double[n];
        var xNew = new double[n];
        var gNew = new double[n];
        var s = new double[n];
        var y = new double[n];
        var hy = new double[n];
        var firstUpdate = true;
        var iteration = 0;
        var converged = false;
        for (; iteration < maxIterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (MaxAbs(g) <= gradientTolerance)
            {
                converged = true;
                break;
            }

            MultiplyNegative(h, g, direction);
            var slope = Dot(g, direction);
            if (!(slope < 0))
            {
                h = Identity(n);
                firstUpdate = true;
                for (var i = 0; i < n; i++)
                {
                    direction[i] = -g[i];
                }

                slope = Dot(g, direction);
            }

            var step = 1.0;
            var largest = MaxAbs(direction);
            if (largest * step > maxStep)
            {
                step = maxStep / largest;
            }

            var accepted = false;
            double fNew = double.NaN;
            for (var trial = 0; trial < 60; trial++)
            {
                for (var i = 0; i < n; i++)
                {
                    xNew[i] = x[i] + (step * direction[i]);
                }

                fNew = objective(xNew, gNew);
                if (double.IsFinite(fNew) && fNew <= fx + (1e-4 * step * slope))
                {
                    accepted = true;
                    break;
                }

                // Quadratic interpolation of the step, kept within [0.1, 0.5] of the previous one.
                var next = double.IsFinite(fNew) ? -slope * step * step / (2 * (fNew - fx - (slope * step))) : 0.1 * step;
                step = Math.Clamp(next, 0.1 * step, 0.5 * step);
            }

            if (!accepted)
            {
                if (!firstUpdate)
                {
                    // Retry from steepest descent once before giving up.
                    h = Identity(n);
                    firstUpdate = true;
                    continue;
                }

                converged = MaxAbs(g) <= Math.Max(gradientTolerance * 1e3, 1e-7);
                break;
            }

            var sy = 0.0;
            var yy = 0.0;
            for (var i = 0; i < n; i++)
            {
                s[i] = xNew[i] - x[i];
                y[i] = gNew[i] - g[i];
                sy += s[i] * y[i];
                yy += y[i] * y[i];
            }

            var previous = fx;
            Array.Copy(xNew, x, n);
            Array.Copy(gNew, g, n);
            fx = fNew;

            if (sy > 1e-14 * Math.Sqrt(Dot(s, s) * yy))
            {
                if (firstUpdate)
                {
                    var scale = sy / yy;
                    h = Identity(n);
                    for (var i = 0; i < n; i++)
                    {
                        h[i, i] = scale;
                    }

                    firstUpdate = false;
                }

                // H <- (I - rho s y') H (I - rho y s') + rho s s'
                var rho = 1 / sy;
                for (var i = 0; i < n; i++)
                {
                    var acc = 0.0;
                    for (var j = 0; j < n; j++)
                    {
                        acc += h[i, j] * y[j];
                    }

                    hy[i] = acc;
                }

                var yhy = Dot(y, hy);
                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j < n; j++)
                    {
                        h[i, j] += (-rho * ((hy[i] * s[j]) + (s[i] * hy[j]))) + (((rho * rho * yhy) + rho) * s[i] * s[j]);
                    }
                }
            }

            if (Math.Abs(previous - fx) <= 1e-16 * Math.Max(1, Math.Abs(fx)) && MaxAbs(s) <= 1e-12)
            {
                converged = MaxAbs(g) <= Math.Max(gradientTolerance * 1e3, 1e-7);
                iteration++;
                break;
            }
        }

        if (!converged && MaxAbs(g) <= gradientTolerance)
        {
            converged = true;
        }

        return new MinimizationResult(x, fx, iteration, converged);
    }

    /// <summary>Nelder-Mead simplex search with restarts until a restart no longer improves the minimum.</summary>
    public static MinimizationResult NelderMead(
        Func<double[], double> objective,
        double[] start,
        double tolerance,
        int maxEvaluations,
        CancellationToken cancellationToken,
        double initialStep = 0.5)
    {
        var best = (double[])start.Clone();
        var bestValue = objective(best);
        if (!double.IsFinite(bestValue))
        {
            throw new ArgumentException("The objective is not finite at the starting point.", nameof(start));
        }

        var evaluations = 1;
        var converged = false;
        for (var restart = 0; restart < 6 && evaluations < maxEvaluations; restart++)
        {
            var (point, value, used, done) = NelderMeadOnce(objective, best, bestValue, tolerance, maxEvaluations - evaluations, cancellationToken, restart == 0 ? initialStep : 0.1);
            evaluations += used;
            var improved = bestValue - value > tolerance * Math.Max(1, Math.Abs(value));
            if (value <= bestValue)
            {
                best = point;
                bestValue = value;
            }

            converged = done;
            if (!improved && restart > 0)
            {
                break;
            }
        }

        return new MinimizationResult(best, bestValue, evaluations, converged);
    }

    private static (double[] Point, double Value, int Evaluations, bool Converged) NelderMeadOnce(
        Func<double[], double> objective,
        double[] start,
        double startValue,
        double tolerance,
        int maxEvaluations,
        CancellationToken cancellationToken,
        double initialStep)
    {
        var n = start.Length;
        var simplex = new double[n + 1][];
        var values = new double[n + 1];
        simplex[0] = (double[])start.Clone();
        values[0] = startValue;
        var evaluations = 0;
        for (var i = 0; i < n; i++)
        {
            var p = (double[])start.Clone();
            p[i] += initialStep;
            simplex[i + 1] = p;
            values[i + 1] = Evaluate(p);
        }

        // Adaptive coefficients (Gao and Han 2012) behave better in higher dimensions; for n = 4 they are close to classic.
        var alpha = 1.0;
        var gamma = 1 + (2.0 / n);
        var rho = 0.75 - (1.0 / (2 * n));
        var sigma = 1 - (1.0 / n);
        var order = new int[n + 1];
        var centroid = new double[n];
        var converged = false;
        while (evaluations < maxEvaluations)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var i = 0; i <= n; i++)
            {
                order[i] = i;
            }

            Array.Sort(order, (p, q) => values[p].CompareTo(values[q]));
            var bestIndex = order[0];
            var worst = order[n];
            var secondWorst = order[n - 1];
            var spread = Math.Abs(values[worst] - values[bestIndex]);
            var size = 0.0;
            for (var i = 0; i <= n; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    size = Math.Max(size, Math.Abs(simplex[i][j] - simplex[bestIndex][j]));
                }
            }

            if (spread <= tolerance * Math.Max(1, Math.Abs(values[bestIndex])) && size <= 1e-7)
            {
                converged = true;
                break;
            }

            Array.Clear(centroid);
            for (var k = 0; k < n; k++)
            {
                var idx = order[k];
                for (var j = 0; j < n; j++)
                {
                    centroid[j] += simplex[idx][j] / n;
                }
            }

            var reflected = Combine(centroid, simplex[worst], -alpha);
            var fr = Evaluate(reflected);
            if (fr < values[bestIndex])
            {
                var expanded = Combine(centroid, simplex[worst], -gamma);
                var fe = Evaluate(expanded);
                if (fe < fr)
                {
                    Replace(worst, expanded, fe);
                }
                else
                {
                    Replace(worst, reflected, fr);
                }
            }
            else if (fr < values[secondWorst])
            {
                Replace(worst, reflected, fr);
            }
            else
            {
                var outside = fr < values[worst];
                var contracted = outside ? Combine(centroid, simplex[worst], -alpha * rho) : Combine(centroid, simplex[worst], rho);
                var fc = Evaluate(contracted);
                if (fc < Math.Min(fr, values[worst]))
                {
                    Replace(worst, contracted, fc);
                }
                else
                {
                    for (var k = 1; k <= n; k++)
                    {
                        var idx = order[k];
                        for (var j = 0; j < n; j++)
                        {
                            simplex[idx][j] = simplex[bestIndex][j] + (sigma * (simplex[idx][j] - simplex[bestIndex][j]));
                        }

                        values[idx] = Evaluate(simplex[idx]);
                    }
                }
            }
        }

        var min = 0;
        for (var i = 1; i <= n; i++)
        {
            if (values[i] < values[min])
            {
                min = i;
            }
        }

        return (simplex[min], values[min], evaluations, converged);

        double Evaluate(double[] p)
        {
            evaluations++;
            var v = objective(p);
            return double.IsNaN(v) ? double.PositiveInfinity : v;
        }

        void Replace(int index, double[] point, double value)
        {
            simplex[index] = point;
            values[index] = value;
        }

        // centroid + t (point - centroid), so t = -1 reflects the point through the centroid.
        static double[] Combine(double[] c, double[] point, double t)
        {
            var result = new double[c.Length];
            for (var j = 0; j < c.Length; j++)
            {
                result[j] = c[j] + (t * (point[j] - c[j]));
            }

            return result;
        }
    }

    /// <summary>Central-difference Hessian of <paramref name="f"/> at <paramref name="x"/> with relative steps.</summary>
    public static double[,] NumericalHessian(Func<double[], double> f, double[] x, double relativeStep = 1e-4)
    {
        var n = x.Length;
        var hessian = new double[n, n];
        var steps = new double[n];
        for (var i = 0; i < n; i++)
        {
            steps[i] = relativeStep * Math.Max(Math.Abs(x[i]), 1e-3);
        }

        var f0 = f(x);
        var p = (double[])x.Clone();
        for (var i = 0; i < n; i++)
        {
            p[i] = x[i] + steps[i];
            var fp = f(p);
            p[i] = x[i] - steps[i];
            var fm = f(p);
            p[i] = x[i];
            hessian[i, i] = (fp - (2 * f0) + fm) / (steps[i] * steps[i]);
        }

        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                p[i] = x[i] + steps[i];
                p[j] = x[j] + steps[j];
                var fpp = f(p);
                p[j] = x[j] - steps[j];
                var fpm = f(p);
                p[i] = x[i] - steps[i];
                var fmm = f(p);
                p[j] = x[j] + steps[j];
                var fmp = f(p);
                p[i] = x[i];
                p[j] = x[j];
                var value = (fpp - fpm - fmp + fmm) / (4 * steps[i] * steps[j]);
                hessian[i, j] = value;
                hessian[j, i] = value;
            }
        }

        return hessian;
    }

    /// <summary>Square roots of the diagonal of the inverse of <paramref name="hessian"/>; NaN when it is not positive definite.</summary>
    public static double[] StandardErrors(double[,] hessian)
    {
        var n = hessian.GetLength(0);
        var result = new double[n];
        try
        {
            var matrix = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfArray(hessian);
            var cholesky = matrix.Cholesky();
            var inverse = cholesky.Solve(MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseIdentity(n));
            for (var i = 0; i < n; i++)
            {
                var v = inverse[i, i];
                result[i] = v > 0 && double.IsFinite(v) ? Math.Sqrt(v) : double.NaN;
            }
        }
        catch (ArgumentException)
        {
            Array.Fill(result, double.NaN);
        }

        return result;
    }

    private static double[,] Identity(int n)
    {
        var m = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            m[i, i] = 1;
        }

        return m;
    }

    private static void MultiplyNegative(double[,] m, double[] v, double[] result)
    {
        var n = v.Length;
        for (var i = 0; i < n; i++)
        {
            var acc = 0.0;
            for (var j = 0; j < n; j++)
            {
                acc += m[i, j] * v[j];
            }

            result[i] = -acc;
        }
    }

    private static double Dot(double[] a, double[] b)
    {
        var acc = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            acc += a[i] * b[i];
        }

        return acc;
    }

    private static double MaxAbs(double[] a)
    {
        var m = 0.0;
        foreach (var v in a)
        {
            m = Math.Max(m, Math.Abs(v));
        }

        return m;
    }
}
