-- Staff alerts (issue #11): every `console.update` alert is written here before it is sent,
-- so a console opened later still shows what is open, and an acknowledgement (who, when, a
-- note) is shared by every dispatcher instead of living in one browser tab.

CREATE TABLE IF NOT EXISTS console_alerts (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    kind VARCHAR(32) NOT NULL COMMENT 'no_provider_nearby, provider_lost, low_review, ...',
    order_id BIGINT NULL,
    provider_id BIGINT NULL,
    detail JSON NOT NULL COMMENT 'the alert as sent (orderId, providerId, why, ...)',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    acked_at DATETIME(3) NULL,
    acked_by BIGINT NULL COMMENT 'the staff user who acknowledged it',
    ack_note VARCHAR(500) NULL,
    KEY idx_console_alerts_open (acked_at, id),
    KEY idx_console_alerts_order (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
