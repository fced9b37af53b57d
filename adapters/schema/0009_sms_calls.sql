-- SMS and masked calls (issue #16): staff devices that passed an SMS code, staff who asked for
-- alerts by SMS, the pool of virtual numbers (隐私号 X) and each order's binding.

-- A staff account signs in from a device it has not used before only with an SMS code; the
-- device id is kept as a hash.
CREATE TABLE IF NOT EXISTS staff_devices (
    user_id BIGINT NOT NULL,
    device_hash BINARY(32) NOT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    last_seen_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (user_id, device_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS staff_sms_alerts (
    user_id BIGINT PRIMARY KEY,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The pool: one row per X number, in an area (NULL: for orders in no area). order_id is the
-- order holding it; UNIQUE, and a row is one number, so a number serves at most one live pair
-- and an order holds at most one number. Taken by a conditional UPDATE (order_id IS NULL).
CREATE TABLE IF NOT EXISTS virtual_numbers (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    number VARCHAR(20) NOT NULL,
    area_id BIGINT NULL,
    order_id BIGINT NULL,
    taken_at DATETIME(3) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_virtual_numbers_number (number),
    UNIQUE KEY uq_virtual_numbers_order (order_id),
    KEY idx_virtual_numbers_area (area_id, order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- An order's binding and where it stands: binding (number taken, BindAxb not yet answered),
-- bound, no_number (the pool was empty), no_phone (a party has no phone), failed,
-- releasing (UnbindSubscription due at release_at, retried until done), released.
CREATE TABLE IF NOT EXISTS number_bindings (
    order_id BIGINT PRIMARY KEY,
    state VARCHAR(16) NOT NULL,
    number VARCHAR(20) NULL,
    subs_id VARCHAR(64) NULL,
    expires_at DATETIME(3) NULL,
    release_at DATETIME(3) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    KEY idx_number_bindings_state (state, release_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
