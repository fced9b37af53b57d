-- WeChat subscribe messages (CONTRACT §13, docs/notifications.md).
-- subscription_balances: what each user consented to (wx.requestSubscribeMessage), one
-- message per accepted consent, per template key; the hub never sends without one and
-- takes it with a conditional UPDATE (balance > 0), so two senders cannot spend one consent.
-- subscribe_messages: one row per (user, what happened), claimed ('sending') before the
-- message goes out, then its outcome, so a status already seen is never sent again, after a
-- crash or restart either. result: sending | sent | online (the user had a live socket) |
-- no_consent | refused:43101 | failed:<errcode> | failed:interrupted.

CREATE TABLE IF NOT EXISTS subscription_balances (
    user_id BIGINT NOT NULL,
    template_key VARCHAR(32) NOT NULL COMMENT 'order_accepted, …, withdrawal_result',
    balance INT NOT NULL DEFAULT 0,
    updated_at DATETIME(3) NOT NULL,
    PRIMARY KEY (user_id, template_key),
    CONSTRAINT fk_subscription_balances_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS subscribe_messages (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    user_id BIGINT NOT NULL,
    template_key VARCHAR(32) NOT NULL,
    event_key VARCHAR(64) NOT NULL COMMENT 'what it tells, e.g. order:42:arrived',
    result VARCHAR(32) NOT NULL,
    detail VARCHAR(255) NULL COMMENT 'WeChat''s errmsg when it refused',
    created_at DATETIME(3) NOT NULL,
    UNIQUE KEY uq_subscribe_messages_event (user_id, event_key),
    KEY idx_subscribe_messages_result (result, created_at),
    CONSTRAINT fk_subscribe_messages_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
