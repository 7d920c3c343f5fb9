-- Idempotency replays are sealed from now on (AES-256-GCM): rows stored before held first answers,
-- API keys and webhook secrets among them, in plaintext. They are dropped, not kept for their day.
DELETE FROM "idempotency_keys";
--> statement-breakpoint
-- The periodic sweep deletes expired rows by expiry.
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys" USING btree ("expires_at");
