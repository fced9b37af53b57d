-- Reviews and after-sales (CONTRACT §8): what a review adds to 0001's table, the provider's
-- damped rating, and complaints as work orders with their history.
-- Every statement but the last is safe to run twice; the last is one ALTER (all or nothing).

-- The damped rating of a provider without reviews is the prior mean, 4.50 (adapters/reviews.py).
ALTER TABLE providers ALTER COLUMN rating SET DEFAULT 4.50;

UPDATE providers p
    LEFT JOIN (SELECT provider_id, COUNT(*) AS n, SUM(rating) AS total
               FROM reviews WHERE visible GROUP BY provider_id) r ON r.provider_id = p.id
    SET p.rating = ROUND((5 * 4.5 + COALESCE(r.total, 0)) / (5 + COALESCE(r.n, 0)), 2),
        p.rating_count = COALESCE(r.n, 0);

CREATE TABLE IF NOT EXISTS complaints (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    order_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL COMMENT 'the order''s customer when it was raised',
    provider_id BIGINT NULL COMMENT 'the order''s provider when it was raised',
    raised_by BIGINT NOT NULL COMMENT 'user id',
    raised_by_role ENUM('customer', 'provider') NOT NULL,
    kind ENUM('quality', 'damage', 'price', 'no_show', 'other') NOT NULL,
    text VARCHAR(1000) NOT NULL,
    images JSON NULL,
    status ENUM('open', 'handling', 'resolved', 'rejected') NOT NULL DEFAULT 'open',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    KEY idx_complaints_order (order_id),
    KEY idx_complaints_status (status, created_at),
    CONSTRAINT fk_complaints_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT fk_complaints_customer FOREIGN KEY (customer_id) REFERENCES users (id),
    CONSTRAINT fk_complaints_provider FOREIGN KEY (provider_id) REFERENCES providers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every status a complaint took, its creation ('open') first: who, when, and the note.
CREATE TABLE IF NOT EXISTS complaint_events (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    complaint_id BIGINT NOT NULL,
    from_status VARCHAR(16) NULL COMMENT 'NULL for the creation',
    status VARCHAR(16) NOT NULL,
    by_role VARCHAR(16) NOT NULL,
    by_user_id BIGINT NOT NULL,
    note VARCHAR(500) NOT NULL DEFAULT '',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    KEY idx_complaint_events (complaint_id, id),
    CONSTRAINT fk_complaint_events_complaint FOREIGN KEY (complaint_id) REFERENCES complaints (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE reviews
    ADD COLUMN images JSON NULL COMMENT '[url], at most 9' AFTER tags,
    ADD COLUMN anonymous BOOLEAN NOT NULL DEFAULT FALSE AFTER images,
    ADD COLUMN reply VARCHAR(500) NULL COMMENT 'the provider''s one answer' AFTER visible,
    ADD COLUMN replied_at DATETIME(3) NULL AFTER reply,
    ADD KEY idx_reviews_customer (customer_id),
    ADD CONSTRAINT fk_reviews_customer FOREIGN KEY (customer_id) REFERENCES users (id),
    ADD CONSTRAINT chk_reviews_ratings CHECK (
        rating BETWEEN 1 AND 5 AND service_rating BETWEEN 1 AND 5
        AND quality_rating BETWEEN 1 AND 5 AND speed_rating BETWEEN 1 AND 5);
