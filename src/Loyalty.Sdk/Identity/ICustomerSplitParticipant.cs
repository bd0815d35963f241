using Loyalty.Sdk.Programs;
using Loyalty.Sdk.Storage;
using NodaTime;

namespace Loyalty.Sdk.Identity;

/// <summary>
/// The <c>CustomerSplit</c> signal: staff removed identifiers from <paramref name="Survivor"/> (a split) or marked the
/// merge of <paramref name="SplitOff"/> into it wrong (an unmerge). The identity graph has already been changed in
/// <paramref name="Session"/>; every participant now reverses its own consolidation in the same unit of work.
/// </summary>
/// <param name="Session">The unit of work (commit is the identity service's job).</param>
/// <param name="Program">The tenant's program.</param>
/// <param name="At">The engine clock's instant of the split.</param>
/// <param name="Survivor">The customer that keeps the remaining identifiers.</param>
/// <param name="SplitOff">The customer that now holds <paramref name="Identifiers"/>: the absorbed customer brought
/// back by an unmerge, or a new customer for a removed identifier or for identifiers tied to the survivor only
/// through it.</param>
/// <param name="Identifiers">The identifiers that moved to <paramref name="SplitOff"/>.</param>
/// <param name="Merge">For an unmerge, the merge record being undone (with the absorbed customer's identifiers and
/// profile snapshot as they were); <c>null</c> for a split of one identifier.</param>
/// <param name="Actor">Who asked for it.</param>
/// <param name="Reason">Why.</param>
/// <param name="Removed">For a split, the identifier staff removed. The graph was replayed without it: the split-off
/// customer holding it has only that identifier, and identifiers that were tied to the survivor only through it form
/// further split-off customers; each is signalled once, the removed identifier's last. <c>null</c> for an unmerge.</param>
public sealed record CustomerSplit(
    ILoyaltyStoreSession Session, LoyaltyProgram Program, Instant At, CustomerId Survivor, CustomerId SplitOff, IReadOnlyList<Identifier> Identifiers, MergeRecord? Merge, string Actor, string Reason,
    Identifier? Removed = null);

/// <summary>
/// A capability that consolidated data on a merge (<see cref="ICustomerMergeParticipant"/>) and reverses it on a split.
/// <para>The contract: in <see cref="ICustomerMergeParticipant.OnMergedAsync"/> keep, keyed by the absorbed customer,
/// whatever an unmerge needs (the profile capability relies on the snapshot in <see cref="MergeRecord.AbsorbedProfile"/>;
/// the ledger keeps the absorbed account's entries with their origin). In <see cref="OnSplitAsync"/>, for an unmerge
/// (<see cref="CustomerSplit.Merge"/> set) give <see cref="CustomerSplit.SplitOff"/> back what it brought and take it
/// off <see cref="CustomerSplit.Survivor"/>; for a split of identifiers, move what is keyed by those identifiers (if
/// anything; the survivor's remaining identifiers can be read from the session). Use only the given session; throw a <see cref="Validation.LoyaltyException"/> to refuse the split —
/// the whole operation is then discarded. Splits must be idempotent per (survivor, split-off).</para>
/// </summary>
public interface ICustomerSplitParticipant
{
    /// <summary>Reverses this capability's consolidation for the split.</summary>
    ValueTask OnSplitAsync(CustomerSplit split, CancellationToken cancellationToken);
}
