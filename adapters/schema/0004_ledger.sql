-- Settlement (CONTRACT §9): a double-entry ledger in fen, providers' withdrawals, and the
-- platform's fee per service. adapters/ledger.py posts the entries, adapters/withdrawals.py
-- the withdrawals. Every statement but the last is safe to run twice; the last is one ALTER.

-- One row per leg of a posting. A posting's legs sum to 0, so the whole table always sums
-- to 0. Accounts (provider_id set on a provider's own three):
--   wechat_clearing     what WeChat Pay collected for us (a payment −, a refund +)
--   platform_fee        the platform's fee
--   order_held          paid before a provider was on the order (a deposit), until released
--   provider            a provider's earnings; withdrawable once available_at <= now
--   withdrawal_pending  asked for by the provider, awaiting an admin's decision
--   withdrawn           approved withdrawals (paid out to the provider)
CREATE TABLE IF NOT EXISTS ledger_entries (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    kind ENUM('payment', 'release', 'refund', 'withdrawal', 'withdrawal_rejected',
              'withdrawal_cancelled', 'withdrawal_approved') NOT NULL,
    source_id BIGINT NOT NULL COMMENT 'the payment (payment, release), refund or withdrawal',
    account VARCHAR(32) NOT NULL,
    provider_id BIGINT NULL,
    amount BIGINT NOT NULL COMMENT 'signed fen',
    fee_rate_bp INT NULL COMMENT 'the fee rate the posting split with (payment, release)',
    order_id BIGINT NULL,
    payment_id BIGINT NULL,
    refund_id BIGINT NULL,
    withdrawal_id BIGINT NULL,
    available_at DATETIME(3) NULL COMMENT 'provider accounts: from then on it counts as balance',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_ledger_posting (kind, source_id, account),
    KEY idx_ledger_provider (provider_id, account, available_at),
    KEY idx_ledger_payment (payment_id),
    KEY idx_ledger_order (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- requested → approved (paid out) | rejected (by an admin) | cancelled (by the provider).
-- 'paid' is kept for a confirmed transfer, once payouts go through WeChat Pay.
CREATE TABLE IF NOT EXISTS withdrawals (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    provider_id BIGINT NOT NULL,
    amount BIGINT NOT NULL COMMENT 'fen',
    status ENUM('requested', 'approved', 'rejected', 'cancelled', 'paid')
        NOT NULL DEFAULT 'requested',
    note VARCHAR(500) NULL COMMENT 'the deciding admin''s note',
    decided_by BIGINT NULL COMMENT 'user id',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    decided_at DATETIME(3) NULL,
    KEY idx_withdrawals_provider (provider_id, id),
    KEY idx_withdrawals_status (status, id),
    CONSTRAINT fk_withdrawals_provider FOREIGN KEY (provider_id) REFERENCES providers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE services ADD COLUMN fee_rate_bp INT NOT NULL DEFAULT 2000
    COMMENT 'the platform fee in basis points of each paid amount (2000 = 20 %)';
