namespace Loyalty.Sdk.Predictive;

/// <summary>Options for maximum-likelihood fitting.</summary>
public sealed record FitOptions
{
    /// <summary>The default options: no penalizer, standard errors computed.</summary>
    public static FitOptions Default { get; } = new();

    /// <summary>
    /// L2 penalizer coefficient λ ≥ 0. The minimised objective is <c>-LL / n + λ Σ θ²</c>, where LL is the total
    /// log-likelihood of the n customers and θ are the model parameters on their natural scale. Because the scale
    /// parameters (BG/NBD α, Pareto/NBD α and β, Gamma-Gamma v) carry the time or money unit, the same λ shrinks them
    /// differently when the unit changes (α in days is 7 times α in weeks, so its penalty is 49 times larger); choose λ
    /// for the unit you fit in. Typical useful values are 0.0001 to 0.1; 0 gives the plain maximum-likelihood estimate.
    /// </summary>
    public double Penalizer { get; init; }

    /// <summary>The maximum number of optimiser iterations.</summary>
    public int MaxIterations { get; init; } = 500;

    /// <summary>Convergence tolerance on the gradient of the per-customer objective with respect to the log-parameters.</summary>
    public double Tolerance { get; init; } = 1e-9;

    /// <summary>Whether to compute standard errors from the numerical Hessian at the optimum.</summary>
    public bool ComputeStandardErrors { get; init; } = true;

    internal void Validate()
    {
        if (!double.IsFinite(Penalizer) || Penalizer < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Penalizer), Penalizer, "The penalizer must be a non-negative number.");
        }

        if (MaxIterations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxIterations), MaxIterations, "At least one iteration is needed.");
        }

        if (!(Tolerance > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "The tolerance must be positive.");
        }
    }
}

/// <summary>One fitted parameter with its asymptotic standard error.</summary>
/// <param name="Name">The parameter name, for example <c>alpha</c>.</param>
/// <param name="Value">The estimate.</param>
/// <param name="StandardError">
/// The standard error from the inverse of the numerical Hessian of the (penalised) negative log-likelihood at the optimum;
/// NaN when not computed or when the Hessian is not positive definite.
/// </param>
public sealed record ParameterEstimate(string Name, double Value, double StandardError);
