-- Per-account login throttling, shared by every replica (see identity/throttle.ts).
CREATE TABLE "login_throttle" (
	"subject" text PRIMARY KEY NOT NULL,
	"failures" integer NOT NULL,
	"window_started_at" timestamp with time zone NOT NULL,
	"locked_until" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "login_throttle_window_idx" ON "login_throttle" USING btree ("window_started_at");
--> statement-breakpoint
-- A second access request with the same e-mail is its own row: merging let anyone overwrite a
-- pending request and learn that it existed.
DROP INDEX IF EXISTS "access_requests_pending_email_key";
--> statement-breakpoint
CREATE INDEX "access_requests_email_idx" ON "access_requests" USING btree ("org_id","email");
