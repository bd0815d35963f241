-- Loyalty.Sdk PostgreSQL storage, migration 0002: leases on due work.
--
-- Due work (ledger expiry and activation, segment re-evaluation, journey timers) is claimed like the outbox: one
-- statement selects due documents nobody holds a live lease on with FOR UPDATE SKIP LOCKED and leases them to the
-- claiming worker (lease_owner, lease_until in Unix ticks). Any write of the document ends the lease; a lease whose
-- owner crashed lapses at lease_until and the document can be claimed again. The due index already covers the claim.
ALTER TABLE {schema}.{prefix}documents ADD COLUMN lease_owner text COLLATE "C";
ALTER TABLE {schema}.{prefix}documents ADD COLUMN lease_until bigint;
