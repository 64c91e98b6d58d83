import { defineOptions, opt } from '@nucleon/core';

/** The L3 plugin's options, with Neutron's names and defaults. */
export const l3Options = defineOptions({
  DEFAULT: {
    max_routes: opt.int(30, 'Maximum number of routes per router.', { min: 1 }),
    enable_snat_by_default: opt.bool(true, 'Default of enable_snat when external_gateway_info does not say.'),
  },
});
