CREATE TABLE "profile_facts" (
	"org_id" uuid NOT NULL,
	"key" text NOT NULL,
	"type" text NOT NULL,
	"value" jsonb NOT NULL,
	"visibility" text NOT NULL,
	"question" text,
	"version" integer NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "profile_facts_org_id_key_pk" PRIMARY KEY("org_id","key")
);
--> statement-breakpoint
CREATE TABLE "profile_fact_versions" (
	"org_id" uuid NOT NULL,
	"key" text NOT NULL,
	"version" integer NOT NULL,
	"type" text NOT NULL,
	"value" jsonb,
	"visibility" text NOT NULL,
	"question" text,
	"deleted" boolean DEFAULT false NOT NULL,
	"changed_fields" text[] NOT NULL,
	"changed_by" text NOT NULL,
	"changed_at" timestamp with time zone NOT NULL,
	"request_id" text,
	CONSTRAINT "profile_fact_versions_org_id_key_version_pk" PRIMARY KEY("org_id","key","version")
);
--> statement-breakpoint
CREATE TABLE "library_entry_facts" (
	"org_id" uuid NOT NULL,
	"entry_id" uuid NOT NULL,
	"key" text NOT NULL,
	"position" integer NOT NULL,
	CONSTRAINT "library_entry_facts_org_id_entry_id_key_pk" PRIMARY KEY("org_id","entry_id","key")
);
--> statement-breakpoint
ALTER TABLE "profile_facts" ADD CONSTRAINT "profile_facts_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "profile_fact_versions" ADD CONSTRAINT "profile_fact_versions_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "library_entry_facts" ADD CONSTRAINT "library_entry_facts_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "profile_fact_versions_time_idx" ON "profile_fact_versions" USING btree ("org_id","changed_at");--> statement-breakpoint
CREATE INDEX "library_entry_facts_key_idx" ON "library_entry_facts" USING btree ("org_id","key");
