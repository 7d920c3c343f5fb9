CREATE TABLE "instance_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"purpose" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone,
	"iv" text NOT NULL,
	"auth_tag" text NOT NULL,
	"ciphertext" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "instance_keys_purpose_idx" ON "instance_keys" USING btree ("purpose","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "instance_keys_one_root" ON "instance_keys" USING btree ("purpose") WHERE "instance_keys"."purpose" = 'root';