CREATE TABLE "floatingips" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"floating_ip_address" text,
	"floating_network_id" uuid NOT NULL,
	"router_id" uuid,
	"port_id" uuid,
	"fixed_ip_address" text,
	"status" text NOT NULL,
	"port_details" jsonb,
	"description" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revision_number" integer NOT NULL,
	"floating_port_id" uuid NOT NULL,
	"last_known_router_id" uuid,
	CONSTRAINT "floatingips_floating_port_id_unique" UNIQUE("floating_port_id")
);
--> statement-breakpoint
CREATE TABLE "routers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"admin_state_up" boolean NOT NULL,
	"status" text NOT NULL,
	"routes" jsonb NOT NULL,
	"description" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revision_number" integer NOT NULL,
	"gw_port_id" uuid,
	"gw_network_id" uuid,
	"gw_fixed_ips" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"enable_snat" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE INDEX "floatingips_project_idx" ON "floatingips" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "floatingips_port_idx" ON "floatingips" USING btree ("port_id");--> statement-breakpoint
CREATE INDEX "floatingips_router_idx" ON "floatingips" USING btree ("router_id");--> statement-breakpoint
CREATE UNIQUE INDEX "floatingips_fixed_ip_key" ON "floatingips" USING btree ("floating_network_id","port_id","fixed_ip_address") WHERE "floatingips"."port_id" is not null;--> statement-breakpoint
CREATE INDEX "routers_project_idx" ON "routers" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "routers_gw_network_idx" ON "routers" USING btree ("gw_network_id");