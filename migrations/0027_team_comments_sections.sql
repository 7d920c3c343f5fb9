CREATE TABLE "answer_revisions" (
	"org_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"question_id" uuid NOT NULL,
	"questionnaire_id" uuid NOT NULL,
	"choice" text,
	"text" text,
	"status" text,
	"confidence" real,
	"sources" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"changed_by" text NOT NULL,
	"changed_at" timestamp with time zone NOT NULL,
	"cause" text NOT NULL,
	CONSTRAINT "answer_revisions_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
CREATE TABLE "fill_job_scopes" (
	"org_id" uuid NOT NULL,
	"job_id" uuid NOT NULL,
	"question_ids" uuid[] NOT NULL,
	"force" boolean DEFAULT false NOT NULL,
	CONSTRAINT "fill_job_scopes_org_id_job_id_pk" PRIMARY KEY("org_id","job_id")
);
--> statement-breakpoint
CREATE TABLE "question_comments" (
	"org_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"questionnaire_id" uuid NOT NULL,
	"question_id" uuid NOT NULL,
	"parent_id" uuid,
	"author_id" text NOT NULL,
	"body" text,
	"mentions" text[] NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"edited_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "question_comments_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
ALTER TABLE "answer_revisions" ADD CONSTRAINT "answer_revisions_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fill_job_scopes" ADD CONSTRAINT "fill_job_scopes_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "question_comments" ADD CONSTRAINT "question_comments_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "answer_revisions_question_idx" ON "answer_revisions" USING btree ("org_id","question_id","id");--> statement-breakpoint
CREATE INDEX "question_comments_question_idx" ON "question_comments" USING btree ("org_id","question_id","id");