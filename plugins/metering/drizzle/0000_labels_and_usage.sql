CREATE TABLE "meteringlabelrules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"metering_label_id" uuid NOT NULL,
	"direction" text NOT NULL,
	"remote_ip_prefix" text,
	"source_ip_prefix" text,
	"destination_ip_prefix" text,
	"excluded" boolean NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meteringlabels" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"shared" boolean NOT NULL
);
--> statement-breakpoint
CREATE TABLE "metering_usage_intervals" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"start_event_id" uuid NOT NULL,
	"end_event_id" uuid,
	"details" jsonb NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "meteringlabelrules" ADD CONSTRAINT "meteringlabelrules_metering_label_id_meteringlabels_id_fk" FOREIGN KEY ("metering_label_id") REFERENCES "public"."meteringlabels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "meteringlabelrules_label_idx" ON "meteringlabelrules" USING btree ("metering_label_id");--> statement-breakpoint
CREATE INDEX "meteringlabels_project_idx" ON "meteringlabels" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "metering_usage_project_idx" ON "metering_usage_intervals" USING btree ("project_id","started_at");--> statement-breakpoint
CREATE INDEX "metering_usage_resource_idx" ON "metering_usage_intervals" USING btree ("resource_id");--> statement-breakpoint
CREATE UNIQUE INDEX "metering_usage_open_key" ON "metering_usage_intervals" USING btree ("resource_id","kind") WHERE "metering_usage_intervals"."ended_at" is null;