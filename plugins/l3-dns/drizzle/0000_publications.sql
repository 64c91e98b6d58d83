CREATE TABLE "dns_publications" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"floatingip_id" uuid NOT NULL,
	"fqdn" text NOT NULL,
	"records" jsonb NOT NULL,
	"status" text NOT NULL,
	"last_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
