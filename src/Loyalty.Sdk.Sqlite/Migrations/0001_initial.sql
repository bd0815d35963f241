-- Loyalty.Sdk SQLite schema, version 1. Every table is keyed by tenant; customer-owned rows carry the customer.

-- Versioned JSON documents (identities, profiles, ledger states, segment states, journey instances, ...).
CREATE TABLE loyalty_documents (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- insertion order
    tenant     TEXT    NOT NULL,
    collection TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    customer   TEXT,
    version    INTEGER NOT NULL,
    due_at     INTEGER,                            -- unix ticks (100 ns) when work falls due
    body       TEXT    NOT NULL,
    UNIQUE (tenant, collection, key)
);
CREATE INDEX loyalty_documents_customer ON loyalty_documents (tenant, collection, customer) WHERE customer IS NOT NULL;
CREATE INDEX loyalty_documents_due ON loyalty_documents (tenant, collection, due_at, key) WHERE due_at IS NOT NULL;

-- Append-only streams (decision trail, segment size history).
CREATE TABLE loyalty_entries (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant   TEXT    NOT NULL,
    stream   TEXT    NOT NULL,
    customer TEXT,
    at       INTEGER NOT NULL,
    body     TEXT    NOT NULL
);
CREATE INDEX loyalty_entries_customer ON loyalty_entries (tenant, stream, customer, seq);
CREATE INDEX loyalty_entries_at ON loyalty_entries (tenant, stream, at);

-- Counters (program accounts, segment sizes, gate outcomes, journey statistics).
CREATE TABLE loyalty_counters (
    tenant TEXT    NOT NULL,
    grp    TEXT    NOT NULL,
    key    TEXT    NOT NULL,
    value  INTEGER NOT NULL,
    PRIMARY KEY (tenant, grp, key)
) WITHOUT ROWID;

-- The outbox: messages to deliver, claimed with leases.
CREATE TABLE loyalty_outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    customer    TEXT    NOT NULL,
    due_at      INTEGER NOT NULL,
    owner       TEXT,
    lease_until INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    done        INTEGER NOT NULL DEFAULT 0,
    body        TEXT    NOT NULL,
    UNIQUE (tenant, key)
);
CREATE INDEX loyalty_outbox_due ON loyalty_outbox (due_at, key) WHERE done = 0;
CREATE INDEX loyalty_outbox_customer ON loyalty_outbox (tenant, customer);
