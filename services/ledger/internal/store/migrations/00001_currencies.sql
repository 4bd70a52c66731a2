-- +goose Up
-- The currencies every new tenant's table is seeded from (ISO 4217 code,
-- English name, minor-unit scale).
CREATE TABLE ledger.default_currencies (
    code        char(3) PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
    description text NOT NULL,
    scale       smallint NOT NULL CHECK (scale BETWEEN 0 AND 8)
);
INSERT INTO ledger.default_currencies (code, description, scale) VALUES
    ('USD', 'US Dollar', 2),
    ('EUR', 'Euro', 2),
    ('GBP', 'Pound Sterling', 2),
    ('CAD', 'Canadian Dollar', 2),
    ('AUD', 'Australian Dollar', 2),
    ('NZD', 'New Zealand Dollar', 2),
    ('CHF', 'Swiss Franc', 2),
    ('SEK', 'Swedish Krona', 2),
    ('NOK', 'Norwegian Krone', 2),
    ('DKK', 'Danish Krone', 2),
    ('PLN', 'Zloty', 2),
    ('MXN', 'Mexican Peso', 2),
    ('BRL', 'Brazilian Real', 2),
    ('INR', 'Indian Rupee', 2),
    ('CNY', 'Yuan Renminbi', 2),
    ('HKD', 'Hong Kong Dollar', 2),
    ('SGD', 'Singapore Dollar', 2),
    ('ZAR', 'Rand', 2),
    ('JPY', 'Yen', 0),
    ('KRW', 'Won', 0),
    ('BHD', 'Bahraini Dinar', 3),
    ('KWD', 'Kuwaiti Dinar', 3);

-- +goose Down
DROP TABLE ledger.default_currencies;
