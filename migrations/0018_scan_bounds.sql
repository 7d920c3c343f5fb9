ALTER TABLE "certifications" ADD COLUMN "attention_at" timestamp with time zone DEFAULT now();--> statement-breakpoint
-- Existing certifications are due at once: the next expiry scan works out each one's next time.
UPDATE "certifications" SET "attention_at" = now() WHERE "attention_at" IS NULL;--> statement-breakpoint
CREATE INDEX "certifications_attention_idx" ON "certifications" USING btree ("attention_at") WHERE "certifications"."attention_at" is not null;--> statement-breakpoint
CREATE INDEX "evidence_expires_at_idx" ON "evidence" USING btree ("expires_at") WHERE "evidence"."expires_at" is not null;
