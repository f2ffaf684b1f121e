-- The minimum SQL of one 3-line order (issue 20's baseline), run by pgbench:
-- three stock updates with the never-oversell guard, the order row (its
-- outbox stamp is the `change_stamp` default), three item rows and the
-- `order.created` event (a copy of a real one's `data`). The products come
-- from three disjoint ranges in the same order every time, so two orders
-- never wait for each other's locks in a cycle.
\set a random(0, 99)
\set b random(100, 199)
\set c random(200, 299)
BEGIN;
UPDATE products SET stock = stock - 1, updated_at = now()
  WHERE store_id = 'default' AND sku = 'SKU-' || :a AND stock >= 1 RETURNING id AS a_id \gset
UPDATE products SET stock = stock - 1, updated_at = now()
  WHERE store_id = 'default' AND sku = 'SKU-' || :b AND stock >= 1 RETURNING id AS b_id \gset
UPDATE products SET stock = stock - 1, updated_at = now()
  WHERE store_id = 'default' AND sku = 'SKU-' || :c AND stock >= 1 RETURNING id AS c_id \gset
INSERT INTO orders (id, store_id, status, customer_id, customer_email, customer_name, customer_phone,
                    shipping_address, tags, total, currency)
  VALUES (gen_random_uuid(), 'default', 'pending', 'cus_' || :a, 'buyer@example.com', 'Bench Buyer',
          '+48 600 100 200', '{"name": "Bench Buyer", "line1": "Rynek 1", "city": "Kraków",
          "postal_code": "30-001", "country": "PL"}', '{bench}', 29.97, 'USD')
  RETURNING id AS order_id \gset
INSERT INTO order_items (order_id, line, product_id, sku, name, category, unit_price, unit_cost,
                         quantity, line_total)
  VALUES (:order_id, 1, :a_id, 'SKU-' || :a, 'Product', 'Bench', 9.99, 4.00, 1, 9.99),
         (:order_id, 2, :b_id, 'SKU-' || :b, 'Product', 'Bench', 9.99, 4.00, 1, 9.99),
         (:order_id, 3, :c_id, 'SKU-' || :c, 'Product', 'Bench', 9.99, 4.00, 1, 9.99);
INSERT INTO events (type, store_id, subject_id, subject_version, data)
  SELECT 'order.created', 'default', :order_id, 1, data FROM bench_event_data;
END;
