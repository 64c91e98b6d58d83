export { DesignateDriver, type DesignateOptions } from './driver.js';
export { DesignateApiError } from './client.js';
