CREATE TABLE "grant_visits" (
	"org_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"grant_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "grant_visits_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
ALTER TABLE "access_grants" ADD COLUMN "updated_at" timestamp with time zone;--> statement-breakpoint
-- Existing grants: the last write we know of (creation, revocation, last use of the link).
UPDATE "access_grants" SET "updated_at" = greatest("created_at", "revoked_at", "last_used_at");--> statement-breakpoint
ALTER TABLE "access_grants" ALTER COLUMN "updated_at" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "access_grants" ADD COLUMN "expiry_notified_at" timestamp with time zone;--> statement-breakpoint
-- Grants that expired before access_grant.expired existed get no late event: marked as noticed, without one.
UPDATE "access_grants" SET "expiry_notified_at" = now() WHERE "revoked_at" IS NULL AND "expires_at" <= now();--> statement-breakpoint
ALTER TABLE "grant_visits" ADD CONSTRAINT "grant_visits_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "grant_visits_at_idx" ON "grant_visits" USING btree ("org_id","at","id");--> statement-breakpoint
CREATE INDEX "grant_visits_grant_idx" ON "grant_visits" USING btree ("org_id","grant_id");--> statement-breakpoint
CREATE INDEX "access_grants_email_idx" ON "access_grants" USING btree ("org_id","email");--> statement-breakpoint
CREATE INDEX "access_grants_domain_idx" ON "access_grants" USING btree ("org_id",split_part("email", '@', 2));--> statement-breakpoint
CREATE INDEX "access_grants_company_idx" ON "access_grants" USING btree ("org_id",lower("company"));--> statement-breakpoint
CREATE INDEX "access_grants_updated_idx" ON "access_grants" USING btree ("org_id","updated_at");--> statement-breakpoint
CREATE INDEX "access_grants_expires_idx" ON "access_grants" USING btree ("org_id","expires_at");--> statement-breakpoint
CREATE INDEX "access_grants_expiry_due_idx" ON "access_grants" USING btree ("expires_at") WHERE "access_grants"."revoked_at" is null and "access_grants"."expiry_notified_at" is null;--> statement-breakpoint
CREATE INDEX "access_requests_domain_idx" ON "access_requests" USING btree ("org_id",split_part("email", '@', 2));--> statement-breakpoint
CREATE INDEX "access_requests_company_idx" ON "access_requests" USING btree ("org_id",lower("company"));--> statement-breakpoint
CREATE INDEX "access_requests_updated_idx" ON "access_requests" USING btree ("org_id","updated_at");--> statement-breakpoint
CREATE INDEX "document_downloads_at_idx" ON "document_downloads" USING btree ("org_id","at","id");