namespace Loyalty.Sdk.Predictive.Internal;

/// <summary>Small, accurate elementary functions used across the models.</summary>
internal static class NumericMath
{
    /// <summary>exp(x) - 1 without cancellation for small |x|.</summary>
    public static double ExpM1(double x)
    {
        if (Math.Abs(x) < 0.5)
        {
            // exp(x) - 1 = tanh(x/2) (exp(x) + 1); tanh is accurate for small arguments.
            return Math.Tanh(0.5 * x) * (Math.Exp(x) + 1);
        }

        return Math.Exp(x) - 1;
    }

    /// <summary>log(1 + x) without cancellation for small |x|.</summary>
    public static double Log1P(double x)
    {
        if (Math.Abs(x) < 1e-4)
        {
            return x * (1 - x * (0.5 - x * ((1.0 / 3) - (0.25 * x))));
        }

        var u = 1 + x;
        if (u == 1)
        {
            return x;
        }

        // Corrects the rounding of 1 + x (Goldberg's trick).
        return Math.Log(u) * x / (u - 1);
    }

    /// <summary>log(1 + exp(x)) without overflow.</summary>
    public static double Log1PExp(double x)
    {
        if (x > 36)
        {
            return x + Math.Exp(-x);
        }

        return x < -36 ? Math.Exp(x) : Log1P(Math.Exp(x));
    }

    /// <summary>1 / (1 + exp(x)) without overflow.</summary>
    public static double InverseOnePlusExp(double x) => x > 0 ? Math.Exp(-x) / (1 + Math.Exp(-x)) : 1 / (1 + Math.Exp(x));

    /// <summary>(1 - (1 - z)^b) / b with ln(1 - z) given, continuous at b = 0 where it equals -ln(1 - z).</summary>
    public static double OneMinusPowerOverExponent(double b, double logOneMinusZ)
    {
        var y = b * logOneMinusZ;
        return y == 0 ? -logOneMinusZ : -ExpM1(y) / b;
    }
}
