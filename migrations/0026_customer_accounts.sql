CREATE TABLE "account_questionnaires" (
	"org_id" uuid NOT NULL,
	"account_id" uuid NOT NULL,
	"questionnaire_id" uuid NOT NULL,
	"attached_at" timestamp with time zone NOT NULL,
	"attached_by" text NOT NULL,
	CONSTRAINT "account_questionnaires_org_id_questionnaire_id_pk" PRIMARY KEY("org_id","questionnaire_id")
);
--> statement-breakpoint
CREATE TABLE "accounts" (
	"org_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"domains" text[] DEFAULT '{}'::text[] NOT NULL,
	"crm_ref" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "accounts_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
ALTER TABLE "account_questionnaires" ADD CONSTRAINT "account_questionnaires_account_fk" FOREIGN KEY ("org_id","account_id") REFERENCES "public"."accounts"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account_questionnaires" ADD CONSTRAINT "account_questionnaires_questionnaire_fk" FOREIGN KEY ("org_id","questionnaire_id") REFERENCES "public"."questionnaires"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "account_questionnaires_account_idx" ON "account_questionnaires" USING btree ("org_id","account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_name_key" ON "accounts" USING btree ("org_id",lower("name"));--> statement-breakpoint
CREATE INDEX "accounts_domains_idx" ON "accounts" USING gin ("domains");