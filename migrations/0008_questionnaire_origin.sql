ALTER TABLE "questionnaires" ADD COLUMN "origin" text DEFAULT 'vendor' NOT NULL;--> statement-breakpoint
ALTER TABLE "questionnaires" ADD COLUMN "grant_id" uuid;--> statement-breakpoint
ALTER TABLE "questionnaires" ADD COLUMN "released_at" timestamp with time zone;