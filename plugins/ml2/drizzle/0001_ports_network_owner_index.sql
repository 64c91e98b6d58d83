DROP INDEX "ports_network_idx";--> statement-breakpoint
CREATE INDEX "ports_network_owner_idx" ON "ports" USING btree ("network_id","device_owner");