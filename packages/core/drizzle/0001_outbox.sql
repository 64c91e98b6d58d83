CREATE TABLE "nucleon_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"topic" text NOT NULL,
	"key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"not_before" timestamp with time zone DEFAULT now() NOT NULL,
	"leased_until" timestamp with time zone,
	"last_error" text
);
--> statement-breakpoint
CREATE INDEX "nucleon_outbox_topic_key_idx" ON "nucleon_outbox" USING btree ("topic","key","id");--> statement-breakpoint
CREATE INDEX "nucleon_outbox_not_before_idx" ON "nucleon_outbox" USING btree ("not_before");