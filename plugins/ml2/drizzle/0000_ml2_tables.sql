CREATE TABLE "default_security_group" (
	"project_id" text PRIMARY KEY NOT NULL,
	"security_group_id" uuid NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ipallocations" (
	"port_id" uuid NOT NULL,
	"subnet_id" uuid NOT NULL,
	"network_id" uuid NOT NULL,
	"ip_address" text NOT NULL,
	CONSTRAINT "ipallocations_subnet_id_ip_address_pk" PRIMARY KEY("subnet_id","ip_address")
);
--> statement-breakpoint
CREATE TABLE "networks" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"admin_state_up" boolean NOT NULL,
	"status" text NOT NULL,
	"shared" boolean NOT NULL,
	"mtu" integer NOT NULL,
	"router_external" boolean NOT NULL,
	"provider_network_type" text,
	"provider_physical_network" text,
	"provider_segmentation_id" integer,
	"port_security_enabled" boolean NOT NULL,
	"description" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revision_number" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ports" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"network_id" uuid NOT NULL,
	"mac_address" text,
	"admin_state_up" boolean NOT NULL,
	"status" text NOT NULL,
	"device_id" text NOT NULL,
	"device_owner" text NOT NULL,
	"allowed_address_pairs" jsonb NOT NULL,
	"extra_dhcp_opts" jsonb NOT NULL,
	"security_groups" jsonb NOT NULL,
	"port_security_enabled" boolean NOT NULL,
	"binding_host_id" text NOT NULL,
	"binding_profile" jsonb,
	"binding_vnic_type" text NOT NULL,
	"binding_vif_type" text NOT NULL,
	"binding_vif_details" jsonb NOT NULL,
	"ip_allocation" text NOT NULL,
	"description" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revision_number" integer NOT NULL,
	CONSTRAINT "ports_network_mac_key" UNIQUE("network_id","mac_address")
);
--> statement-breakpoint
CREATE TABLE "securitygrouprules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"security_group_id" uuid NOT NULL,
	"remote_group_id" uuid,
	"direction" text NOT NULL,
	"protocol" text,
	"port_range_min" integer,
	"port_range_max" integer,
	"ethertype" text NOT NULL,
	"remote_ip_prefix" text,
	"normalized_cidr" text,
	"description" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revision_number" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "securitygroups" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"stateful" boolean NOT NULL,
	"description" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revision_number" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ml2_segment_allocations" (
	"network_type" text NOT NULL,
	"physical_network" text DEFAULT '' NOT NULL,
	"segmentation_id" integer DEFAULT 0 NOT NULL,
	"network_id" uuid NOT NULL,
	CONSTRAINT "ml2_segment_allocations_network_type_physical_network_segmentation_id_pk" PRIMARY KEY("network_type","physical_network","segmentation_id")
);
--> statement-breakpoint
CREATE TABLE "subnets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"network_id" uuid NOT NULL,
	"ip_version" integer NOT NULL,
	"subnetpool_id" uuid,
	"cidr" text NOT NULL,
	"gateway_ip" text,
	"allocation_pools" jsonb NOT NULL,
	"dns_nameservers" jsonb NOT NULL,
	"host_routes" jsonb NOT NULL,
	"enable_dhcp" boolean NOT NULL,
	"ipv6_ra_mode" text,
	"ipv6_address_mode" text,
	"description" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revision_number" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ipallocations" ADD CONSTRAINT "ipallocations_port_id_ports_id_fk" FOREIGN KEY ("port_id") REFERENCES "public"."ports"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ipallocations" ADD CONSTRAINT "ipallocations_subnet_id_subnets_id_fk" FOREIGN KEY ("subnet_id") REFERENCES "public"."subnets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ports" ADD CONSTRAINT "ports_network_id_networks_id_fk" FOREIGN KEY ("network_id") REFERENCES "public"."networks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "securitygrouprules" ADD CONSTRAINT "securitygrouprules_security_group_id_securitygroups_id_fk" FOREIGN KEY ("security_group_id") REFERENCES "public"."securitygroups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "securitygrouprules" ADD CONSTRAINT "securitygrouprules_remote_group_id_securitygroups_id_fk" FOREIGN KEY ("remote_group_id") REFERENCES "public"."securitygroups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ml2_segment_allocations" ADD CONSTRAINT "ml2_segment_allocations_network_id_networks_id_fk" FOREIGN KEY ("network_id") REFERENCES "public"."networks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subnets" ADD CONSTRAINT "subnets_network_id_networks_id_fk" FOREIGN KEY ("network_id") REFERENCES "public"."networks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ipallocations_port_idx" ON "ipallocations" USING btree ("port_id");--> statement-breakpoint
CREATE INDEX "networks_project_idx" ON "networks" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "ports_network_idx" ON "ports" USING btree ("network_id");--> statement-breakpoint
CREATE INDEX "ports_device_idx" ON "ports" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "ports_project_idx" ON "ports" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "ports_security_groups_idx" ON "ports" USING gin ("security_groups" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "securitygrouprules_group_idx" ON "securitygrouprules" USING btree ("security_group_id");--> statement-breakpoint
CREATE INDEX "securitygroups_project_idx" ON "securitygroups" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "segments_network_idx" ON "ml2_segment_allocations" USING btree ("network_id");--> statement-breakpoint
CREATE INDEX "subnets_network_idx" ON "subnets" USING btree ("network_id");--> statement-breakpoint
CREATE INDEX "subnets_project_idx" ON "subnets" USING btree ("project_id");