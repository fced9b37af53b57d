-- Reminders of unpaid completed orders (seed 002's 催缴), sent as WeChat subscribe messages.
-- One row per (order, n): claimed ('sending') before the message goes out, then its outcome,
-- so a restart neither repeats nor silently drops one ('sending' left by a crash becomes
-- 'failed:interrupted'). result: sending | sent | refused:43101 | failed:<errcode> | skipped
-- (a later reminder was already due when this one would have gone out).

CREATE TABLE IF NOT EXISTS payment_reminders (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    order_id BIGINT NOT NULL,
    n TINYINT NOT NULL COMMENT '1: the first interval after completion, 2: the second, …',
    result VARCHAR(32) NOT NULL,
    detail VARCHAR(255) NULL COMMENT 'WeChat''s errmsg when it refused',
    sent_at DATETIME(3) NOT NULL COMMENT 'when it was attempted (UTC)',
    UNIQUE KEY uq_payment_reminders (order_id, n),
    KEY idx_payment_reminders_result (result),
    CONSTRAINT fk_payment_reminders_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The reminder job's scan: completed orders by payment status and completion time.
ALTER TABLE orders ADD KEY idx_orders_unpaid (status, payment_status, completed_at);
