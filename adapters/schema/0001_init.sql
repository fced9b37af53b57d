-- Initial schema. Times are UTC DATETIME(3); money is integer fen.

CREATE TABLE users (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    role ENUM('customer', 'provider', 'dispatcher', 'admin') NOT NULL,
    openid VARCHAR(64) NULL,
    unionid VARCHAR(64) NULL,
    username VARCHAR(64) NULL,
    password_hash VARCHAR(100) NULL,
    nickname VARCHAR(64) NOT NULL DEFAULT '',
    phone_enc VARBINARY(64) NULL COMMENT 'SM4-GCM nonce|ciphertext|tag',
    phone_hash BINARY(32) NULL COMMENT 'HMAC-SHA256 of the phone, for lookups',
    phone_masked VARCHAR(16) NULL,
    status ENUM('active', 'disabled') NOT NULL DEFAULT 'active',
    failed_logins INT NOT NULL DEFAULT 0,
    locked_until DATETIME(3) NULL,
    last_login_at DATETIME(3) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_users_openid (openid),
    UNIQUE KEY uq_users_username (username),
    KEY idx_users_phone_hash (phone_hash),
    KEY idx_users_role (role)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE areas (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    name VARCHAR(64) NOT NULL,
    city VARCHAR(64) NOT NULL,
    center_lat DOUBLE NOT NULL,
    center_lng DOUBLE NOT NULL,
    boundary JSON NOT NULL COMMENT '[[lat, lng], ...] polygon',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_areas_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE services (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    category VARCHAR(32) NOT NULL,
    name VARCHAR(64) NOT NULL,
    description VARCHAR(500) NOT NULL DEFAULT '',
    base_price INT NOT NULL COMMENT 'fen',
    duration_min INT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_services_name (category, name),
    KEY idx_services_active (active, category)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE providers (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    user_id BIGINT NOT NULL,
    name VARCHAR(64) NOT NULL,
    certificate_no VARCHAR(64) NOT NULL,
    certificate_type VARCHAR(32) NOT NULL,
    skills JSON NOT NULL COMMENT '[serviceId]',
    service_areas JSON NOT NULL COMMENT '[areaId]',
    verification ENUM('pending', 'approved', 'rejected') NOT NULL DEFAULT 'pending',
    verification_note VARCHAR(500) NULL,
    verified_by BIGINT NULL,
    verified_at DATETIME(3) NULL,
    work_status ENUM('offline', 'online', 'busy') NOT NULL DEFAULT 'offline',
    max_concurrent INT NOT NULL DEFAULT 1,
    rating DECIMAL(3, 2) NOT NULL DEFAULT 5.00,
    rating_count INT NOT NULL DEFAULT 0,
    total_orders INT NOT NULL DEFAULT 0,
    completed_orders INT NOT NULL DEFAULT 0,
    cancelled_orders INT NOT NULL DEFAULT 0,
    total_earnings BIGINT NOT NULL DEFAULT 0 COMMENT 'fen',
    last_lat DOUBLE NULL,
    last_lng DOUBLE NULL,
    location_at DATETIME(3) NULL,
    introduction VARCHAR(1000) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_providers_user (user_id),
    UNIQUE KEY uq_providers_certificate (certificate_type, certificate_no),
    KEY idx_providers_verification (verification),
    KEY idx_providers_work_status (work_status),
    CONSTRAINT fk_providers_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE orders (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    order_no VARCHAR(32) NOT NULL,
    customer_id BIGINT NOT NULL,
    provider_id BIGINT NULL,
    service_id BIGINT NOT NULL,
    area_id BIGINT NULL,
    status ENUM('pending', 'accepted', 'departed', 'arrived', 'in_progress',
                'completed', 'cancelled', 'expired') NOT NULL DEFAULT 'pending',
    payment_status ENUM('unpaid', 'paying', 'paid', 'refunding', 'refunded')
        NOT NULL DEFAULT 'unpaid',
    dispatch_mode ENUM('grab', 'auto', 'direct') NOT NULL,
    urgency ENUM('normal', 'urgent') NOT NULL DEFAULT 'normal',
    offered_provider_id BIGINT NULL COMMENT 'the one provider holding a direct/auto/assign offer',
    seq INT NOT NULL DEFAULT 0 COMMENT 'latest per-order event number (status and chat)',
    address VARCHAR(255) NOT NULL,
    district VARCHAR(64) NOT NULL DEFAULT '',
    lat DOUBLE NOT NULL,
    lng DOUBLE NOT NULL,
    description VARCHAR(2000) NOT NULL DEFAULT '',
    contact_name VARCHAR(64) NOT NULL,
    contact_phone_enc VARBINARY(64) NOT NULL,
    contact_phone_hash BINARY(32) NOT NULL,
    contact_phone_masked VARCHAR(16) NOT NULL,
    images JSON NULL,
    scheduled_at DATETIME(3) NULL,
    estimated_amount INT NOT NULL COMMENT 'fen',
    quoted_amount INT NULL,
    final_amount INT NULL,
    accepted_at DATETIME(3) NULL,
    departed_at DATETIME(3) NULL,
    arrived_at DATETIME(3) NULL,
    quoted_at DATETIME(3) NULL,
    started_at DATETIME(3) NULL,
    completed_at DATETIME(3) NULL,
    cancelled_at DATETIME(3) NULL,
    cancel_reason VARCHAR(500) NULL,
    cancel_by ENUM('customer', 'provider', 'staff', 'system') NULL,
    expires_at DATETIME(3) NULL COMMENT 'a pending order no one takes expires then',
    paid_at DATETIME(3) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_orders_order_no (order_no),
    KEY idx_orders_customer (customer_id, created_at),
    KEY idx_orders_provider (provider_id, status),
    KEY idx_orders_status (status, created_at),
    KEY idx_orders_created (created_at),
    CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES users (id),
    CONSTRAINT fk_orders_provider FOREIGN KEY (provider_id) REFERENCES providers (id),
    CONSTRAINT fk_orders_service FOREIGN KEY (service_id) REFERENCES services (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE order_events (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    order_id BIGINT NOT NULL,
    seq INT NOT NULL,
    status VARCHAR(16) NOT NULL COMMENT 'the order status after this event',
    action VARCHAR(32) NOT NULL,
    by_role VARCHAR(16) NOT NULL,
    by_user_id BIGINT NULL,
    detail JSON NULL,
    cmd_id VARCHAR(64) NULL COMMENT 'the command that caused it: makes retries idempotent',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_order_events_seq (order_id, seq),
    UNIQUE KEY uq_order_events_cmd (order_id, cmd_id),
    CONSTRAINT fk_order_events_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE messages (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    order_id BIGINT NOT NULL,
    seq INT NOT NULL,
    sender_id BIGINT NOT NULL,
    sender_role VARCHAR(16) NOT NULL,
    text VARCHAR(2000) NOT NULL,
    client_msg_id VARCHAR(64) NOT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_messages_seq (order_id, seq),
    UNIQUE KEY uq_messages_client (order_id, sender_id, client_msg_id),
    CONSTRAINT fk_messages_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE payments (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    payment_no VARCHAR(32) NOT NULL,
    order_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    amount INT NOT NULL COMMENT 'fen',
    status ENUM('created', 'paid', 'failed', 'closed', 'refunding', 'refunded')
        NOT NULL DEFAULT 'created',
    out_trade_no VARCHAR(32) NOT NULL,
    prepay_id VARCHAR(64) NULL,
    transaction_id VARCHAR(64) NULL,
    refund_amount INT NOT NULL DEFAULT 0,
    callback_data JSON NULL,
    paid_at DATETIME(3) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_payments_no (payment_no),
    UNIQUE KEY uq_payments_out_trade_no (out_trade_no),
    UNIQUE KEY uq_payments_transaction (transaction_id),
    KEY idx_payments_order (order_id),
    CONSTRAINT fk_payments_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE reviews (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    order_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    provider_id BIGINT NOT NULL,
    rating TINYINT NOT NULL,
    service_rating TINYINT NOT NULL,
    quality_rating TINYINT NOT NULL,
    speed_rating TINYINT NOT NULL,
    content VARCHAR(2000) NULL,
    tags JSON NULL,
    visible BOOLEAN NOT NULL DEFAULT TRUE,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_reviews_order (order_id),
    KEY idx_reviews_provider (provider_id, created_at),
    CONSTRAINT fk_reviews_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT fk_reviews_provider FOREIGN KEY (provider_id) REFERENCES providers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL,
    idem_key VARCHAR(128) NOT NULL,
    scope VARCHAR(32) NOT NULL,
    resource_id BIGINT NOT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (user_id, scope, idem_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    actor_id BIGINT NULL,
    actor_role VARCHAR(16) NOT NULL,
    action VARCHAR(64) NOT NULL,
    target_type VARCHAR(32) NOT NULL,
    target_id BIGINT NULL,
    detail JSON NULL,
    ip VARCHAR(64) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    KEY idx_audit_target (target_type, target_id),
    KEY idx_audit_actor (actor_id, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
