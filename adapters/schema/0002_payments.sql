-- WeChat Pay v3 (CONTRACT §6): payments as the hub records them, refunds, deposits per area.

ALTER TABLE orders MODIFY payment_status
    ENUM('unpaid', 'paying', 'deposit_paid', 'paid', 'refunding', 'refunded')
    NOT NULL DEFAULT 'unpaid';

ALTER TABLE areas ADD COLUMN deposit_amount INT NULL
    COMMENT 'fen asked at order time (seed 001 定金); NULL: the whole price after the service';

-- 'created' becomes 'open' (no payment was ever written with the old set).
ALTER TABLE payments MODIFY status
    ENUM('created', 'open', 'paid', 'failed', 'closed', 'refunding', 'refunded')
    NOT NULL DEFAULT 'open';
UPDATE payments SET status = 'open' WHERE status = 'created';
ALTER TABLE payments MODIFY status
    ENUM('open', 'paid', 'failed', 'closed', 'refunding', 'refunded') NOT NULL DEFAULT 'open';

ALTER TABLE payments
    ADD COLUMN kind ENUM('deposit', 'balance', 'full') NOT NULL DEFAULT 'full' AFTER order_id,
    ADD COLUMN payer_openid VARCHAR(64) NOT NULL DEFAULT '' AFTER customer_id,
    ADD COLUMN pay_params JSON NULL COMMENT 'what wx.requestPayment takes, signed once',
    ADD COLUMN trade_state VARCHAR(16) NULL COMMENT 'WeChat trade_state last seen',
    ADD COLUMN failure VARCHAR(255) NULL,
    ADD COLUMN expires_at DATETIME(3) NULL,
    ADD COLUMN closed_at DATETIME(3) NULL,
    ADD COLUMN open_key VARCHAR(48)
        AS (IF(status = 'open', CONCAT(order_id, ':', kind), NULL)) STORED
        COMMENT 'one open payment per order and kind',
    ADD UNIQUE KEY uq_payments_open (open_key),
    ADD KEY idx_payments_status (status, expires_at),
    ADD KEY idx_payments_paid (paid_at);

CREATE TABLE refunds (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    payment_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    out_refund_no VARCHAR(64) NOT NULL,
    refund_id VARCHAR(64) NULL COMMENT 'WeChat refund_id',
    amount INT NOT NULL COMMENT 'fen',
    reason VARCHAR(255) NOT NULL DEFAULT '',
    status ENUM('processing', 'success', 'failed', 'closed') NOT NULL DEFAULT 'processing',
    requested_by BIGINT NULL,
    succeeded_at DATETIME(3) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_refunds_out_refund_no (out_refund_no),
    KEY idx_refunds_payment (payment_id),
    KEY idx_refunds_created (created_at),
    CONSTRAINT fk_refunds_payment FOREIGN KEY (payment_id) REFERENCES payments (id),
    CONSTRAINT fk_refunds_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
