-- Loyalty.Sdk SQLite schema, version 2: leases on due work (ledger expiry, segment re-evaluation, journey timers).
-- A worker claims due documents by setting lease_owner and lease_until (unix ticks); any write of the document ends the
-- lease; a lease whose owner crashed lapses at lease_until.
ALTER TABLE loyalty_documents ADD COLUMN lease_owner TEXT;
ALTER TABLE loyalty_documents ADD COLUMN lease_until INTEGER
