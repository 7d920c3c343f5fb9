CREATE TABLE "jobs" (
	"org_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"kind" text NOT NULL,
	"subject_id" uuid NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"error" text,
	"requested_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "jobs_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
CREATE TABLE "questionnaires" (
	"org_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"format" text NOT NULL,
	"source_sha256" text,
	"source_file_name" text,
	"layout" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text NOT NULL,
	"question_count" integer NOT NULL,
	"progress_done" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"filled_at" timestamp with time zone,
	CONSTRAINT "questionnaires_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
CREATE TABLE "questionnaire_questions" (
	"org_id" uuid NOT NULL,
	"questionnaire_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"position" integer NOT NULL,
	"ref" text,
	"text" text NOT NULL,
	"section" text,
	"sheet" text,
	"row" integer,
	"answer_cells" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"allowed_answers" text[],
	"choice" text,
	"answer_text" text,
	"confidence" real,
	"status" text,
	"sources" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"filled_by_job" uuid,
	"answered_at" timestamp with time zone,
	"reviewed_by" text,
	"reviewed_at" timestamp with time zone,
	CONSTRAINT "questionnaire_questions_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "questionnaires" ADD CONSTRAINT "questionnaires_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "jobs_due_idx" ON "jobs" USING btree ("status","locked_until");--> statement-breakpoint
CREATE INDEX "questionnaire_questions_order_idx" ON "questionnaire_questions" USING btree ("org_id","questionnaire_id","position");