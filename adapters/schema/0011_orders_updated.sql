-- Orders by when they last changed: a Ray host that starts after a crash pushes again the
-- last event of the orders that ended in the last minute (actors/host.py _revive), since
-- the host that ended them may have died between the commit and the push.

ALTER TABLE orders ADD KEY idx_orders_updated (updated_at);
