using Loyalty.Sdk.Validation;

namespace Loyalty.Sdk.Consent;

/// <summary>Stable codes of consent input errors.</summary>
public static class ConsentErrorCodes
{
    /// <summary>The contact channel is not one of the known channels.</summary>
    public const string UnknownChannel = "unknown_channel";

    /// <summary>The purpose is not one of the known purposes.</summary>
    public const string UnknownPurpose = "unknown_purpose";

    /// <summary>The status is not one the host may record.</summary>
    public const string InvalidStatus = "invalid_status";

    /// <summary>The choice is dated in the future.</summary>
    public const string FutureDated = "future_dated";

    /// <summary>A withdrawal without an earlier grant.</summary>
    public const string WithdrawalWithoutGrant = "withdrawal_without_grant";

    /// <summary>Not an IANA time zone id.</summary>
    public const string InvalidTimeZone = "invalid_time_zone";

    /// <summary>The customer is unknown.</summary>
    public const string UnknownCustomer = "unknown_customer";

    /// <summary>The message class is not in the program's consent policy.</summary>
    public const string UnknownMessageClass = "unknown_message_class";

    /// <summary>The purpose of a send check is not its message class's purpose.</summary>
    public const string PurposeMismatch = "purpose_mismatch";

    /// <summary>The consent source is not a known capture method.</summary>
    public const string UnknownSource = "unknown_source";

    /// <summary>No pending double opt-in matches the confirmation.</summary>
    public const string NoPendingDoubleOptIn = "no_pending_double_opt_in";

    /// <summary>The double opt-in confirmation came after the timeout.</summary>
    public const string DoubleOptInExpired = "double_opt_in_expired";

    /// <summary>The topic is not in the program's consent policy.</summary>
    public const string UnknownTopic = "unknown_topic";

    /// <summary>An expiry before the effective date, or a similar inconsistency.</summary>
    public const string InvalidValue = "invalid_value";
}

/// <summary>Consent input was refused; every problem is listed and nothing was applied.</summary>
public sealed class ConsentValidationException : LoyaltyValidationException
{
    /// <summary>Creates the exception from the problems found.</summary>
    public ConsentValidationException(IReadOnlyList<ValidationError> errors)
        : base(errors)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConsentValidationException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConsentValidationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConsentValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for one problem.</summary>
    public static ConsentValidationException For(string path, string code, string message) => new([new ValidationError(path, code, message)]);
}
