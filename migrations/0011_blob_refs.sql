CREATE TABLE "blob_refs" (
	"org_id" uuid NOT NULL,
	"sha256" text NOT NULL,
	"owner_kind" text NOT NULL,
	"owner_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "blob_refs_org_id_owner_kind_owner_id_sha256_pk" PRIMARY KEY("org_id","owner_kind","owner_id","sha256")
);
--> statement-breakpoint
CREATE TABLE "blob_leases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "blob_refs" ADD CONSTRAINT "blob_refs_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "blob_refs_sha256_idx" ON "blob_refs" USING btree ("sha256");
--> statement-breakpoint
CREATE INDEX "blob_leases_sha256_idx" ON "blob_leases" USING btree ("sha256");
--> statement-breakpoint
-- Backfill: every file an existing row points at gets its reference, so no stored file looks unused.
INSERT INTO "blob_refs" ("org_id", "sha256", "owner_kind", "owner_id")
SELECT DISTINCT "org_id", "sha256", 'evidence_version', "evidence_id"::text FROM "evidence_versions" WHERE "sha256" IS NOT NULL
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "blob_refs" ("org_id", "sha256", "owner_kind", "owner_id")
SELECT DISTINCT "org_id", "sha256", 'document_version', "document_id"::text FROM "document_versions" WHERE "sha256" IS NOT NULL
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "blob_refs" ("org_id", "sha256", "owner_kind", "owner_id")
SELECT "org_id", "source_sha256", 'questionnaire_source', "id"::text FROM "questionnaires" WHERE "source_sha256" IS NOT NULL
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "blob_refs" ("org_id", "sha256", "owner_kind", "owner_id")
SELECT "org_id", "logo_sha256", 'trust_logo', "org_id"::text FROM "trust_pages" WHERE "logo_sha256" IS NOT NULL
ON CONFLICT DO NOTHING;
