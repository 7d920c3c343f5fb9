CREATE INDEX IF NOT EXISTS "access_grants_request_idx" ON "access_grants" USING btree ("org_id","request_id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "api_keys_created_by_idx" ON "api_keys" USING btree ("org_id","created_by");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "control_answers_catalog_idx" ON "control_answers" USING btree ("framework_id","ref");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "crosswalk_sets_from_idx" ON "crosswalk_sets" USING btree ("from_framework");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "crosswalk_sets_to_idx" ON "crosswalk_sets" USING btree ("to_framework");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "evidence_controls_catalog_idx" ON "evidence_controls" USING btree ("framework_id","ref");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "jobs_subject_idx" ON "jobs" USING btree ("org_id","subject_id");
