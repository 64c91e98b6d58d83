ALTER TABLE "floatingips" ADD COLUMN "dns_name" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "floatingips" ADD COLUMN "dns_domain" text DEFAULT '' NOT NULL;