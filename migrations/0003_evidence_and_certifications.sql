CREATE TABLE "certifications" (
	"org_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"issuer" text,
	"scope" text,
	"certificate_number" text,
	"includes_iso27017" boolean DEFAULT false NOT NULL,
	"issued_at" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"period_start" timestamp with time zone,
	"period_end" timestamp with time zone,
	"surveillance_audits" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"evidence_id" uuid,
	"visibility" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "certifications_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
CREATE TABLE "evidence" (
	"org_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"kind" text NOT NULL,
	"url" text,
	"visibility" text NOT NULL,
	"valid_from" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"current_version" integer NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "evidence_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
CREATE TABLE "evidence_controls" (
	"org_id" uuid NOT NULL,
	"evidence_id" uuid NOT NULL,
	"framework_id" text NOT NULL,
	"ref" text NOT NULL,
	CONSTRAINT "evidence_controls_org_id_evidence_id_framework_id_ref_pk" PRIMARY KEY("org_id","evidence_id","framework_id","ref")
);
--> statement-breakpoint
CREATE TABLE "evidence_versions" (
	"org_id" uuid NOT NULL,
	"evidence_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"sha256" text,
	"size" bigint,
	"file_name" text,
	"content_type" text,
	"url" text,
	"uploaded_by" text NOT NULL,
	"uploaded_at" timestamp with time zone NOT NULL,
	CONSTRAINT "evidence_versions_org_id_evidence_id_version_pk" PRIMARY KEY("org_id","evidence_id","version")
);
--> statement-breakpoint
ALTER TABLE "certifications" ADD CONSTRAINT "certifications_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence" ADD CONSTRAINT "evidence_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_controls" ADD CONSTRAINT "evidence_controls_evidence_fk" FOREIGN KEY ("org_id","evidence_id") REFERENCES "public"."evidence"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_controls" ADD CONSTRAINT "evidence_controls_catalog_fk" FOREIGN KEY ("framework_id","ref") REFERENCES "public"."catalog_controls"("framework_id","ref") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evidence_versions" ADD CONSTRAINT "evidence_versions_evidence_fk" FOREIGN KEY ("org_id","evidence_id") REFERENCES "public"."evidence"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "evidence_expiry_idx" ON "evidence" USING btree ("org_id","expires_at");--> statement-breakpoint
CREATE INDEX "evidence_controls_control_idx" ON "evidence_controls" USING btree ("org_id","framework_id","ref");--> statement-breakpoint
CREATE INDEX "evidence_versions_sha_idx" ON "evidence_versions" USING btree ("sha256");