-- +goose Up
-- Customers: the MANEX Customer Main attributes plus the Exigo numeric id and
-- alphanumeric key. Column names are the field names of
-- abacus.customer.v1.Customer (the MANEX key of each is in the proto).
-- Every decimal is numeric(19,4): 15 digits before the point, 4 after; the
-- domain refuses values that would not fit, so nothing is rounded here.
CREATE TABLE customer.customers (
    tenant_id            uuid NOT NULL REFERENCES customer.tenants (tenant_id),
    customer_id          integer NOT NULL CHECK (customer_id > 0),
    -- NULL when absent, so that any number of customers can have no key.
    customer_key         text CHECK (customer_key <> ''),
    customer_number      text NOT NULL CHECK (customer_number ~ '^[0-9]{10}$'),
    name                 text NOT NULL DEFAULT '',
    -- The abacus.customer.v1.CustomerStatus numbers: 1 Active, 2 Inactive, 3 Quote.
    status               smallint NOT NULL CHECK (status BETWEEN 1 AND 3),
    phone                text NOT NULL DEFAULT '',
    fax                  text NOT NULL DEFAULT '',
    bill_link_address    text NOT NULL DEFAULT '',
    ship_link_address    text NOT NULL DEFAULT '',
    territory            text NOT NULL DEFAULT '',
    terms                text NOT NULL DEFAULT '',
    credit_limit         numeric(19, 4) NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
    profile              text NOT NULL DEFAULT '',
    note                 text NOT NULL DEFAULT '',
    account_status       text NOT NULL DEFAULT '',
    division             text NOT NULL DEFAULT '',
    sales_reps           text NOT NULL DEFAULT '',
    credit_status        text NOT NULL DEFAULT '',
    reseller_number      text NOT NULL DEFAULT '',
    ar_call_time         timestamptz,
    ar_call_time_text    text NOT NULL DEFAULT '',
    ar_call_by           text NOT NULL DEFAULT '',
    ar_call_note         text NOT NULL DEFAULT '',
    ar_high_balance      numeric(19, 4) NOT NULL DEFAULT 0 CHECK (ar_high_balance >= 0),
    credit_note          text NOT NULL DEFAULT '',
    account_date         timestamptz,
    save_initials        text NOT NULL DEFAULT '',
    outside_margin       numeric(19, 4) NOT NULL DEFAULT 0,
    tooling_margin       numeric(19, 4) NOT NULL DEFAULT 0,
    material_margin      numeric(19, 4) NOT NULL DEFAULT 0,
    labor_margin         numeric(19, 4) NOT NULL DEFAULT 0,
    minimum_order_amount numeric(19, 4) NOT NULL DEFAULT 0,
    scrap_factor         numeric(19, 4) NOT NULL DEFAULT 0,
    commission_item      numeric(19, 4) NOT NULL DEFAULT 0,
    customer_spec        numeric(19, 4) NOT NULL DEFAULT 0,
    labor                boolean NOT NULL DEFAULT false,
    material             boolean NOT NULL DEFAULT false,
    split1               numeric(19, 4) NOT NULL DEFAULT 0,
    split2               numeric(19, 4) NOT NULL DEFAULT 0,
    split_amount         numeric(19, 4) NOT NULL DEFAULT 0,
    split_percent        numeric(19, 4) NOT NULL DEFAULT 0,
    tooling              boolean NOT NULL DEFAULT false,
    sic_code             text NOT NULL DEFAULT '',
    sic_description      text NOT NULL DEFAULT '',
    delivery_time        text NOT NULL DEFAULT '',
    serial_flag          boolean NOT NULL DEFAULT false,
    overhead             numeric(19, 4) NOT NULL DEFAULT 0,
    is_edited            text NOT NULL DEFAULT '',
    sales_discount_id    text NOT NULL DEFAULT '',
    customer_prefix      text NOT NULL DEFAULT '',
    account_taxable      boolean NOT NULL DEFAULT false,
    inactive_time        timestamptz,
    inactive_initials    text NOT NULL DEFAULT '',
    user_id              text NOT NULL DEFAULT '',
    version              bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    create_time          timestamptz NOT NULL DEFAULT now(),
    -- NULL until the first update, as MANEX answers an add with a null
    -- modifiedDate.
    modify_time          timestamptz,
    PRIMARY KEY (tenant_id, customer_id),
    CONSTRAINT customers_customer_number_key UNIQUE (tenant_id, customer_number),
    CONSTRAINT customers_customer_key_key UNIQUE (tenant_id, customer_key)
);
-- Lookup by exact name (MANEX CustNumOrName), and name prefix search in
-- lists; text_pattern_ops lets LIKE 'prefix%' use the index whatever the
-- database collation.
CREATE INDEX customers_name ON customer.customers (tenant_id, name);
CREATE INDEX customers_name_prefix ON customer.customers (tenant_id, name text_pattern_ops);

-- Extended records: 30 free text fields per (customer, extended group,
-- record id), the Exigo CustomerExtended entity.
CREATE TABLE customer.customer_extended (
    tenant_id            uuid NOT NULL,
    customer_id          integer NOT NULL,
    extended_group_id    integer NOT NULL CHECK (extended_group_id > 0),
    customer_extended_id integer NOT NULL CHECK (customer_extended_id > 0),
    field1  text NOT NULL DEFAULT '',
    field2  text NOT NULL DEFAULT '',
    field3  text NOT NULL DEFAULT '',
    field4  text NOT NULL DEFAULT '',
    field5  text NOT NULL DEFAULT '',
    field6  text NOT NULL DEFAULT '',
    field7  text NOT NULL DEFAULT '',
    field8  text NOT NULL DEFAULT '',
    field9  text NOT NULL DEFAULT '',
    field10 text NOT NULL DEFAULT '',
    field11 text NOT NULL DEFAULT '',
    field12 text NOT NULL DEFAULT '',
    field13 text NOT NULL DEFAULT '',
    field14 text NOT NULL DEFAULT '',
    field15 text NOT NULL DEFAULT '',
    field16 text NOT NULL DEFAULT '',
    field17 text NOT NULL DEFAULT '',
    field18 text NOT NULL DEFAULT '',
    field19 text NOT NULL DEFAULT '',
    field20 text NOT NULL DEFAULT '',
    field21 text NOT NULL DEFAULT '',
    field22 text NOT NULL DEFAULT '',
    field23 text NOT NULL DEFAULT '',
    field24 text NOT NULL DEFAULT '',
    field25 text NOT NULL DEFAULT '',
    field26 text NOT NULL DEFAULT '',
    field27 text NOT NULL DEFAULT '',
    field28 text NOT NULL DEFAULT '',
    field29 text NOT NULL DEFAULT '',
    field30 text NOT NULL DEFAULT '',
    version              bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    update_time          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, customer_id, extended_group_id, customer_extended_id),
    -- The key includes tenant_id, so a record can only hang off a customer of
    -- its own tenant.
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customer.customers (tenant_id, customer_id)
);

-- Per-tenant counters that hand out customer ids and generated customer
-- numbers. A create increments them with INSERT ... ON CONFLICT DO UPDATE in
-- its own transaction, so the row lock serializes concurrent creates of a
-- tenant and a rolled-back create leaves no gap.
CREATE TABLE customer.counters (
    tenant_id uuid NOT NULL REFERENCES customer.tenants (tenant_id),
    name      text NOT NULL,
    value     bigint NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- +goose Down
DROP TABLE customer.counters;
DROP TABLE customer.customer_extended;
DROP TABLE customer.customers;
