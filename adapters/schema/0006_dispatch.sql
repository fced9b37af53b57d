-- Smart dispatch (CONTRACT §10): each order's place in the fallback chain, the policies staff
-- edit per area and service, and every decision with the candidates it weighed.

-- The chain's state (actors/dispatch/plan.py State): written with each step's order event, so
-- a restarted host resumes the dispatch where it was.
ALTER TABLE orders ADD COLUMN dispatch JSON NULL AFTER offered_provider_id;

-- Scheduled orders: dispatch starts this long before the slot.
ALTER TABLE services ADD COLUMN dispatch_lead_min INT NOT NULL DEFAULT 60;

-- A policy row overrides the defaults (actors/dispatch/policy.py) for an area, a service or
-- both; 0 means "any". The most specific row wins field by field.
CREATE TABLE IF NOT EXISTS dispatch_policies (
    area_id BIGINT NOT NULL DEFAULT 0,
    service_id BIGINT NOT NULL DEFAULT 0,
    config JSON NOT NULL,
    updated_by BIGINT NULL,
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (area_id, service_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Why: one row per dispatch decision, written in the transaction of the order event (seq) it
-- explains. explanation: actors/dispatch/plan.py explain().
CREATE TABLE IF NOT EXISTS dispatch_decisions (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    order_id BIGINT NOT NULL,
    seq INT NOT NULL COMMENT 'the order event this decision made',
    stage VARCHAR(16) NOT NULL,
    explanation JSON NOT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    KEY idx_dispatch_decisions_order (order_id, seq),
    CONSTRAINT fk_dispatch_decisions_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
