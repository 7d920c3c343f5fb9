ALTER TABLE "questionnaires" ADD COLUMN "prospect" jsonb;--> statement-breakpoint
ALTER TABLE "questionnaires" ADD COLUMN "auto_release" text;--> statement-breakpoint
ALTER TABLE "trust_pages" ADD COLUMN "prospect_auto_release" text DEFAULT 'library_and_facts' NOT NULL;--> statement-breakpoint
-- Prospect questionnaires uploaded before this column existed: the prospect as their grant names them.
UPDATE "questionnaires" q SET "prospect" = jsonb_build_object('email', g."email", 'name', g."name", 'company', g."company")
FROM "access_grants" g WHERE q."origin" = 'prospect' AND q."prospect" IS NULL AND g."org_id" = q."org_id" AND g."id" = q."grant_id";
