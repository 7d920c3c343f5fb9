CREATE TABLE "library_entries" (
	"org_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"question" text NOT NULL,
	"choice" text,
	"answer_text" text,
	"status" text NOT NULL,
	"public" boolean DEFAULT false NOT NULL,
	"owner_id" uuid NOT NULL,
	"stale" boolean DEFAULT false NOT NULL,
	"stale_reason" text,
	"stale_at" timestamp with time zone,
	"source_questionnaire_id" uuid,
	"source_question_id" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"approved_by" text,
	"approved_at" timestamp with time zone,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('english', question), 'A') || setweight(to_tsvector('english', coalesce(answer_text, '')), 'C')) STORED,
	CONSTRAINT "library_entries_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
CREATE TABLE "library_entry_controls" (
	"org_id" uuid NOT NULL,
	"entry_id" uuid NOT NULL,
	"framework_id" text NOT NULL,
	"ref" text NOT NULL,
	"position" integer NOT NULL,
	CONSTRAINT "library_entry_controls_org_id_entry_id_framework_id_ref_pk" PRIMARY KEY("org_id","entry_id","framework_id","ref")
);
--> statement-breakpoint
CREATE TABLE "embeddings" (
	"org_id" uuid NOT NULL,
	"model" text NOT NULL,
	"content_hash" text NOT NULL,
	"vector" real[] NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "embeddings_org_id_model_content_hash_pk" PRIMARY KEY("org_id","model","content_hash")
);
--> statement-breakpoint
CREATE TABLE "llm_drafts" (
	"org_id" uuid NOT NULL,
	"cache_key" text NOT NULL,
	"model" text NOT NULL,
	"text" text NOT NULL,
	"citations" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "llm_drafts_org_id_cache_key_pk" PRIMARY KEY("org_id","cache_key")
);
--> statement-breakpoint
ALTER TABLE "library_entries" ADD CONSTRAINT "library_entries_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "library_entry_controls" ADD CONSTRAINT "library_entry_controls_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "embeddings" ADD CONSTRAINT "embeddings_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "llm_drafts" ADD CONSTRAINT "llm_drafts_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "library_entries_search_idx" ON "library_entries" USING gin ("search");--> statement-breakpoint
CREATE INDEX "library_entry_controls_control_idx" ON "library_entry_controls" USING btree ("org_id","framework_id","ref");