ALTER TABLE "questionnaire_questions" ADD COLUMN "review_reason" text;--> statement-breakpoint
ALTER TABLE "questionnaire_questions" ADD COLUMN "answer_basis" jsonb;
