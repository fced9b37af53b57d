-- Coupons (CONTRACT §12, issue #14): templates staff set up, the coupons customers hold, and
-- the ledger's two postings of the discount the platform pays for. adapters/coupons.py.

-- A template: what a coupon takes off, where and when it applies, and how many may exist.
-- `issued` counts every coupon made from it (claimed, granted by staff, welcome): the claim's
-- conditional update `issued < stock` is what keeps the stock from going below zero.
CREATE TABLE IF NOT EXISTS coupon_templates (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    name VARCHAR(64) NOT NULL,
    kind ENUM('threshold', 'discount') NOT NULL COMMENT 'threshold: 满减; discount: percent off',
    amount_off INT NULL COMMENT 'fen off (threshold)',
    threshold INT NOT NULL DEFAULT 0 COMMENT 'fen the order price must reach',
    percent_off INT NULL COMMENT '1..99 (discount): 20 = pay 80 %',
    max_off INT NULL COMMENT 'fen, the most a discount coupon takes off',
    service_ids JSON NULL COMMENT '[serviceId] or NULL: every service',
    area_ids JSON NULL COMMENT '[areaId] or NULL: every area',
    valid_from DATETIME(3) NULL,
    valid_to DATETIME(3) NULL,
    valid_days INT NULL COMMENT 'a coupon is valid this many days after it is claimed',
    stock INT NOT NULL,
    per_user INT NOT NULL DEFAULT 1,
    new_customer_only BOOLEAN NOT NULL DEFAULT FALSE,
    return_on_refund BOOLEAN NOT NULL DEFAULT TRUE
        COMMENT 'a fully refunded payment gives its coupon back',
    status ENUM('active', 'paused', 'ended') NOT NULL DEFAULT 'active',
    issued INT NOT NULL DEFAULT 0,
    created_by BIGINT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    KEY idx_coupon_templates_status (status, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A coupon a customer holds. usable → locked (its payment is open) → used (paid); locked →
-- usable when that payment closes or fails; used → usable on a full refund when the template
-- says so. "expired" is not stored: a usable coupon past valid_to (or of an ended template).
-- (template_id, user_id, nth) unique: a customer's n-th coupon of a template, n ≤ per_user,
-- so two racing claims of one customer cannot both be the first. payment_id unique: a payment
-- uses one coupon, and a coupon is bound to one payment at a time.
CREATE TABLE IF NOT EXISTS user_coupons (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    template_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    nth INT NOT NULL,
    source ENUM('claim', 'grant', 'welcome') NOT NULL,
    status ENUM('usable', 'locked', 'used') NOT NULL DEFAULT 'usable',
    valid_from DATETIME(3) NOT NULL,
    valid_to DATETIME(3) NOT NULL,
    payment_id BIGINT NULL,
    order_id BIGINT NULL,
    discount INT NULL COMMENT 'fen it took off its payment',
    claimed_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    locked_at DATETIME(3) NULL,
    used_at DATETIME(3) NULL,
    UNIQUE KEY uq_user_coupons_nth (template_id, user_id, nth),
    UNIQUE KEY uq_user_coupons_payment (payment_id),
    KEY idx_user_coupons_user (user_id, status),
    CONSTRAINT fk_user_coupons_template FOREIGN KEY (template_id) REFERENCES coupon_templates (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The discount as postings of its own (adapters/coupons.py): `coupon` when its payment is
-- paid (platform_coupons −discount; the fee and the provider's earnings on the price before
-- the discount), `coupon_reversal` when that payment is refunded in full. Account added:
--   platform_coupons    what the platform spent on coupons (−)
ALTER TABLE ledger_entries MODIFY kind
    ENUM('payment', 'release', 'refund', 'withdrawal', 'withdrawal_rejected',
         'withdrawal_cancelled', 'withdrawal_approved', 'coupon', 'coupon_reversal') NOT NULL;
