using System.Text.Json.Serialization;
using Loyalty.Sdk.Serialization;

namespace Loyalty.Sdk;

/// <summary>Where an event happened or through which a message travels.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<Channel>))]
public enum Channel
{
    /// <summary>The shop's web site.</summary>
    Web,

    /// <summary>The shop's mobile app.</summary>
    App,

    /// <summary>A point of sale in a physical store.</summary>
    Pos,

    /// <summary>E-mail.</summary>
    Email,

    /// <summary>SMS text message.</summary>
    Sms,

    /// <summary>Mobile push notification.</summary>
    Push,

    /// <summary>WhatsApp.</summary>
    WhatsApp,

    /// <summary>The call center.</summary>
    CallCenter,
}
