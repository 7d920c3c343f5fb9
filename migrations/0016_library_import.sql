CREATE TABLE "library_imports" (
	"org_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"sha256" text NOT NULL,
	"file_name" text NOT NULL,
	"format" text NOT NULL,
	"imported_by" text NOT NULL,
	"imported_at" timestamp with time zone NOT NULL,
	"row_count" integer NOT NULL,
	"imported" integer NOT NULL,
	"duplicates" integer NOT NULL,
	"conflicts" integer NOT NULL,
	"skipped" integer NOT NULL,
	CONSTRAINT "library_imports_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
ALTER TABLE "library_imports" ADD CONSTRAINT "library_imports_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "library_imports_org_sha256_idx" ON "library_imports" USING btree ("org_id","sha256");--> statement-breakpoint
ALTER TABLE "library_entries" ADD COLUMN "import_id" uuid;--> statement-breakpoint
ALTER TABLE "library_entries" ADD COLUMN "import_row" integer;--> statement-breakpoint
ALTER TABLE "library_entries" ADD COLUMN "controls_confirmed" boolean DEFAULT true NOT NULL;--> statement-breakpoint
CREATE INDEX "library_entries_import_idx" ON "library_entries" USING btree ("org_id","import_id");
