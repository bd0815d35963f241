-- Loyalty.Sdk PostgreSQL storage, migration 0001: the four tables of IDocumentBackend.
--
-- {schema} and {prefix} are replaced before the script runs (PostgreSqlStorageOptions.Schema and .TablePrefix); the
-- migration runner creates the schema and its own history table ({prefix}migrations) first. The tables and indexes
-- below are owned by Loyalty.Sdk: change them only through a new migration (0002_..., never by editing this one).
--
-- Conventions
--   * Every key and customer column is COLLATE "C": comparisons and ORDER BY are by byte (code point) order, which is
--     the ordinal order the SDK expects, whatever the database's locale.
--   * Instants are bigint Unix ticks (100 ns since 1970-01-01T00:00Z, NodaTime Instant.ToUnixTimeTicks): exact for
--     every instant .NET clocks produce, over NodaTime's whole range, cheap to compare and free of session time-zone
--     settings. Read them as timestamps with to_timestamp(due_at / 1e7).
--   * Bodies are text, not jsonb: the SDK writes and reads them whole and never queries inside them, so text skips
--     jsonb's parse-and-convert on every write and the re-serialization on every read (it is the cheaper write), keeps
--     the exact JSON System.Text.Json wrote (jsonb reorders members and rejects \u0000 in strings), and is TOASTed
--     (compressed) the same way. body::jsonb works for ad-hoc queries.
--
-- Distribution (Citus)
--   The distribution column of all four tables is `tenant`; distribute them co-located, e.g.
--     SELECT create_distributed_table('{schema}.{prefix}documents', 'tenant');
--     SELECT create_distributed_table('{schema}.{prefix}entries',   'tenant', colocate_with => '{schema}.{prefix}documents');
--     SELECT create_distributed_table('{schema}.{prefix}counters',  'tenant', colocate_with => '{schema}.{prefix}documents');
--     SELECT create_distributed_table('{schema}.{prefix}outbox',    'tenant', colocate_with => '{schema}.{prefix}documents');
--   so that one commit (one tenant) is a single-shard transaction. Every primary key includes tenant, as Citus requires
--   of unique constraints. If your Citus version does not propagate functions by itself, also run
--     SELECT create_distributed_function('{schema}.{prefix}expect_rows(bigint, bigint, text, text)');
--   `customer` cannot be the distribution column, although every table carries it where there is one: it is nullable;
--   it changes (merges re-point identifier documents; erasure nulls or pseudonymizes it on events, orders and entries)
--   and Citus cannot update a distribution column; unique keys such as (tenant, collection, key) would have to include
--   it; and IDocumentBackend reads documents by key without knowing their customer. The customer columns serve the
--   per-customer indexes and erasure. Outbox claims span all tenants (FOR UPDATE SKIP LOCKED over many shards), which
--   Citus does not run: on Citus, claims would have to be made per tenant.

-- Versioned JSON documents. Distribution column: tenant.
CREATE TABLE {schema}.{prefix}documents (
    tenant     text COLLATE "C" NOT NULL,
    collection text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    customer   text COLLATE "C",
    version    bigint NOT NULL,
    due_at     bigint,
    body       text NOT NULL,
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT {prefix}documents_pkey PRIMARY KEY (tenant, collection, key)
);

-- A customer's documents, in insertion order.
CREATE INDEX {prefix}documents_customer_idx ON {schema}.{prefix}documents (tenant, collection, customer, seq);

-- A collection in insertion order (paging through ledgers, segment states, transfers).
CREATE INDEX {prefix}documents_seq_idx ON {schema}.{prefix}documents (tenant, collection, seq);

-- Due work (journeys, ledgers, segments): only documents with a due time.
CREATE INDEX {prefix}documents_due_idx ON {schema}.{prefix}documents (tenant, collection, due_at, key) WHERE due_at IS NOT NULL;

-- Append-only entry streams (decision trail, segment history). Distribution column: tenant.
CREATE TABLE {schema}.{prefix}entries (
    tenant   text COLLATE "C" NOT NULL,
    stream   text COLLATE "C" NOT NULL,
    seq      bigint GENERATED ALWAYS AS IDENTITY,
    customer text COLLATE "C",
    at       bigint NOT NULL,
    body     text NOT NULL,
    CONSTRAINT {prefix}entries_pkey PRIMARY KEY (tenant, stream, seq)
);

CREATE INDEX {prefix}entries_customer_idx ON {schema}.{prefix}entries (tenant, stream, customer, seq);

CREATE INDEX {prefix}entries_at_idx ON {schema}.{prefix}entries (tenant, stream, at);

-- Counters, incremented by commits. Distribution column: tenant.
CREATE TABLE {schema}.{prefix}counters (
    tenant text COLLATE "C" NOT NULL,
    grp    text COLLATE "C" NOT NULL,
    key    text COLLATE "C" NOT NULL,
    value  bigint NOT NULL,
    CONSTRAINT {prefix}counters_pkey PRIMARY KEY (tenant, grp, key)
);

-- The outbox: messages written by commits, claimed by dispatchers with leases. Distribution column: tenant.
-- due_at, attempts, owner and lease_until are authoritative; body is the message as enqueued.
CREATE TABLE {schema}.{prefix}outbox (
    tenant      text COLLATE "C" NOT NULL,
    key         text COLLATE "C" NOT NULL,
    customer    text COLLATE "C" NOT NULL,
    due_at      bigint NOT NULL,
    attempts    integer NOT NULL,
    owner       text,
    lease_until bigint,
    done        boolean NOT NULL DEFAULT false,
    body        text NOT NULL,
    CONSTRAINT {prefix}outbox_pkey PRIMARY KEY (tenant, key)
);

-- Claims: undelivered messages, oldest due first (across tenants). Small: delivered messages leave it.
CREATE INDEX {prefix}outbox_claim_idx ON {schema}.{prefix}outbox (due_at, key, tenant) WHERE NOT done;

-- Erasure drops a customer's messages.
CREATE INDEX {prefix}outbox_customer_idx ON {schema}.{prefix}outbox (tenant, customer);

-- Raised by commits when a document's version is not the expected one: the whole commit rolls back. SQLSTATE LY001.
CREATE FUNCTION {schema}.{prefix}expect_rows(actual bigint, expected bigint, collection text, key text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    IF actual <> expected THEN
        RAISE EXCEPTION 'Document %/% was changed by another writer (version conflict).', collection, key
            USING ERRCODE = 'LY001';
    END IF;
    RETURN actual;
END
$fn$;
