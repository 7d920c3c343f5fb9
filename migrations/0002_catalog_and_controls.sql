CREATE TABLE "catalog_controls" (
	"framework_id" text NOT NULL,
	"ref" text NOT NULL,
	"kind" text NOT NULL,
	"position" integer NOT NULL,
	"title" text NOT NULL,
	"theme" text,
	"summary" text,
	"keywords" text[] DEFAULT '{}'::text[] NOT NULL,
	"guidance" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"search" "tsvector",
	CONSTRAINT "catalog_controls_framework_id_ref_pk" PRIMARY KEY("framework_id","ref")
);
--> statement-breakpoint
CREATE TABLE "control_aliases" (
	"framework_id" text NOT NULL,
	"alias" text NOT NULL,
	"ref" text NOT NULL,
	CONSTRAINT "control_aliases_framework_id_alias_pk" PRIMARY KEY("framework_id","alias")
);
--> statement-breakpoint
CREATE TABLE "crosswalk_links" (
	"from_framework" text NOT NULL,
	"from_ref" text NOT NULL,
	"to_framework" text NOT NULL,
	"to_ref" text NOT NULL,
	"relationship" text NOT NULL,
	"strength" text NOT NULL,
	"sources" text[] NOT NULL,
	"note" text,
	CONSTRAINT "crosswalk_links_from_framework_from_ref_to_framework_to_ref_pk" PRIMARY KEY("from_framework","from_ref","to_framework","to_ref")
);
--> statement-breakpoint
CREATE TABLE "crosswalk_overrides" (
	"org_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"from_framework" text NOT NULL,
	"from_ref" text NOT NULL,
	"to_framework" text NOT NULL,
	"to_ref" text NOT NULL,
	"action" text NOT NULL,
	"relationship" text,
	"note" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "crosswalk_overrides_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
CREATE TABLE "crosswalk_sets" (
	"id" text PRIMARY KEY NOT NULL,
	"from_framework" text NOT NULL,
	"to_framework" text NOT NULL,
	"rule" text NOT NULL,
	"content_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "frameworks" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"version" text NOT NULL,
	"publisher" text NOT NULL,
	"catalog_version" integer NOT NULL,
	"content_hash" text NOT NULL,
	"loaded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "control_answer_versions" (
	"org_id" uuid NOT NULL,
	"framework_id" text NOT NULL,
	"ref" text NOT NULL,
	"version" integer NOT NULL,
	"snapshot" jsonb NOT NULL,
	"changed_fields" text[] NOT NULL,
	"changed_by" text NOT NULL,
	"changed_at" timestamp with time zone NOT NULL,
	"request_id" text,
	CONSTRAINT "control_answer_versions_org_id_framework_id_ref_version_pk" PRIMARY KEY("org_id","framework_id","ref","version")
);
--> statement-breakpoint
CREATE TABLE "control_answers" (
	"org_id" uuid NOT NULL,
	"framework_id" text NOT NULL,
	"ref" text NOT NULL,
	"version" integer NOT NULL,
	"applicable" boolean NOT NULL,
	"status" text NOT NULL,
	"implementation" text NOT NULL,
	"responsibility" text NOT NULL,
	"provider_statement" text,
	"customer_statement" text,
	"justification" text,
	"owner" text,
	"review_due_at" timestamp with time zone,
	"visibility" text NOT NULL,
	"public_summary" text,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "control_answers_org_id_framework_id_ref_pk" PRIMARY KEY("org_id","framework_id","ref")
);
--> statement-breakpoint
ALTER TABLE "catalog_controls" ADD CONSTRAINT "catalog_controls_framework_id_frameworks_id_fk" FOREIGN KEY ("framework_id") REFERENCES "public"."frameworks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_aliases" ADD CONSTRAINT "control_aliases_framework_id_frameworks_id_fk" FOREIGN KEY ("framework_id") REFERENCES "public"."frameworks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "crosswalk_overrides" ADD CONSTRAINT "crosswalk_overrides_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "crosswalk_sets" ADD CONSTRAINT "crosswalk_sets_from_framework_frameworks_id_fk" FOREIGN KEY ("from_framework") REFERENCES "public"."frameworks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "crosswalk_sets" ADD CONSTRAINT "crosswalk_sets_to_framework_frameworks_id_fk" FOREIGN KEY ("to_framework") REFERENCES "public"."frameworks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_answer_versions" ADD CONSTRAINT "control_answer_versions_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_answers" ADD CONSTRAINT "control_answers_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_answers" ADD CONSTRAINT "control_answers_catalog_fk" FOREIGN KEY ("framework_id","ref") REFERENCES "public"."catalog_controls"("framework_id","ref") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "catalog_controls_search_idx" ON "catalog_controls" USING gin ("search");--> statement-breakpoint
CREATE INDEX "crosswalk_links_to_idx" ON "crosswalk_links" USING btree ("to_framework","to_ref");--> statement-breakpoint
CREATE INDEX "crosswalk_overrides_pair_idx" ON "crosswalk_overrides" USING btree ("org_id","from_framework","from_ref","to_framework","to_ref");--> statement-breakpoint
CREATE INDEX "control_answer_versions_time_idx" ON "control_answer_versions" USING btree ("org_id","changed_at");