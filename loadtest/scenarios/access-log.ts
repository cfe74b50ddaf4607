/** `access-log`: `passthrough` with the access log on, to compare their CPU per request. */
import { passthrough } from './passthrough.js';
import type { Scenario } from './types.js';

/** passthrough's route and traffic, every request logged (to /dev/null). */
export const accessLog: Scenario = {
  ...passthrough,
  name: 'access-log',
  description: 'passthrough with the access log on (all fields, to /dev/null)',
  configFile: 'access-log.yaml',
};
