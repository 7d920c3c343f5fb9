CREATE TABLE "knowledge_sources" (
	"org_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"source_id" uuid NOT NULL,
	"title" text NOT NULL,
	"version" integer NOT NULL,
	"visibility" text NOT NULL,
	"use_for_answers" boolean DEFAULT true NOT NULL,
	"status" text NOT NULL,
	"detail" text,
	"passages" integer DEFAULT 0 NOT NULL,
	"indexed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "knowledge_sources_org_id_kind_source_id_pk" PRIMARY KEY("org_id","kind","source_id")
);
--> statement-breakpoint
CREATE TABLE "knowledge_passages" (
	"org_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"source_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"page" integer,
	"heading" text,
	"text" text NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('english', coalesce(heading, '')), 'A') || setweight(to_tsvector('english', text), 'C')) STORED,
	CONSTRAINT "knowledge_passages_org_id_kind_source_id_position_pk" PRIMARY KEY("org_id","kind","source_id","position")
);
--> statement-breakpoint
ALTER TABLE "knowledge_sources" ADD CONSTRAINT "knowledge_sources_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "knowledge_passages" ADD CONSTRAINT "knowledge_passages_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "knowledge_passages_search_idx" ON "knowledge_passages" USING gin ("search");
--> statement-breakpoint
CREATE TABLE "library_entry_documents" (
	"org_id" uuid NOT NULL,
	"entry_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"source_id" uuid NOT NULL,
	"version" integer NOT NULL,
	CONSTRAINT "library_entry_documents_org_id_entry_id_kind_source_id_pk" PRIMARY KEY("org_id","entry_id","kind","source_id")
);
--> statement-breakpoint
ALTER TABLE "library_entry_documents" ADD CONSTRAINT "library_entry_documents_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "library_entry_documents_source_idx" ON "library_entry_documents" USING btree ("org_id","kind","source_id");
