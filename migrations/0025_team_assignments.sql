ALTER TABLE "questionnaires" ADD COLUMN "owner_id" uuid;--> statement-breakpoint
ALTER TABLE "questionnaires" ADD COLUMN "due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "questionnaires" ADD COLUMN "due_notice_for" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "questionnaire_questions" ADD COLUMN "assignee_id" uuid;--> statement-breakpoint
ALTER TABLE "questionnaire_questions" ADD COLUMN "due_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "questionnaires_owner_due_idx" ON "questionnaires" USING btree ("org_id","owner_id","due_at");--> statement-breakpoint
CREATE INDEX "questionnaires_due_idx" ON "questionnaires" USING btree ("due_at") WHERE "questionnaires"."due_at" is not null;--> statement-breakpoint
CREATE INDEX "questionnaire_questions_assignee_idx" ON "questionnaire_questions" USING btree ("org_id","assignee_id","due_at") WHERE "questionnaire_questions"."assignee_id" is not null;