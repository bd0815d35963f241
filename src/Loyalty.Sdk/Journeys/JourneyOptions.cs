using Loyalty.Sdk.Events;
using NodaTime;

namespace Loyalty.Sdk.Journeys;

/// <summary>Options of the journeys capability.</summary>
public sealed class JourneyOptions
{
    /// <summary>The journeys (several versions of one id may be registered; the highest takes new entries).</summary>
    public IList<JourneyDefinition> Journeys { get; } = new List<JourneyDefinition>();

    /// <summary>Percent (0–100) of each tenant's customers in the global control group, excluded from marketing journeys.</summary>
    public int GlobalControlPercent { get; set; }

    /// <summary>The longest wait a step may declare.</summary>
    public Duration MaxWait { get; set; } = Duration.FromDays(400);

    /// <summary>Known templates; empty means any template is accepted.</summary>
    public ISet<string> Templates { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Channels messages may use; empty means every channel.</summary>
    public ISet<ContactChannel> Channels { get; } = new HashSet<ContactChannel>();

    /// <summary>The tenant default channel of best-channel sends, used when no consented channel has an observed
    /// response yet (and the consent gate allows it).</summary>
    public ContactChannel DefaultChannel { get; set; } = ContactChannel.Email;

    /// <summary>Sends a channel needs to this customer before its observed response (opens and clicks over sends)
    /// counts for best-channel sends. Default 3.</summary>
    public int BestChannelMinSends { get; set; } = 3;

    /// <summary>Instances advanced per page by <see cref="IJourneyService.AdvanceAsync"/>.</summary>
    public int PageSize { get; set; } = 500;

    /// <summary>How long <see cref="IJourneyService.AdvanceAsync"/> holds the instances it claimed before another worker
    /// may take them. Workers in several processes claim disjoint instances; a crashed worker's claims lapse after
    /// this. Default 5 minutes.</summary>
    public Duration DueWorkLease { get; set; } = Duration.FromMinutes(5);

    /// <summary>Steps one instance may take in one go without waiting (a guard; validation rejects cycles without a wait).</summary>
    public int MaxStepsPerRun { get; set; } = 64;

    /// <summary>Outbox messages claimed per dispatch batch.</summary>
    public int DispatchBatchSize { get; set; } = 200;

    /// <summary>How long a dispatcher holds the messages it claimed before another node may claim them again (a node
    /// that crashed mid-batch leaves its claims for this long). Keep it well above a batch's delivery time. Default 5
    /// minutes.</summary>
    public Duration DispatchLease { get; set; } = Duration.FromMinutes(5);

    /// <summary>The first retry delay of a failed delivery (doubled per attempt).</summary>
    public Duration RetryBackoff { get; set; } = Duration.FromMinutes(1);

    /// <summary>Delivery attempts before a message is given up.</summary>
    public int MaxAttempts { get; set; } = 6;
}
