/**
 * The google.api.HttpRule side of REST→gRPC transcoding: bindings from
 * annotations or config, path templates, router translation and request
 * mapping. Pure modules; nothing here does I/O.
 */
export { HttpRuleError, PathTemplateError, type HttpRuleErrorCode } from './errors.js';
export {
  isSingleSegmentVariable,
  parsePathTemplate,
  templateShape,
  type PathTemplate,
  type TemplateSegment,
  type TemplateVariable,
} from './path-template.js';
export { groupForRouter, toRouterRoute, type PathVars, type RouterGroup, type RouterRoute } from './router-route.js';
export { assertUniqueBindings, configBinding, httpBindings, type ConfigHttpRule, type HttpBinding } from './bindings.js';
export { buildRequestObject, type MappingBinding, type RequestMappingOptions } from './request-mapping.js';
export { findField, jsonName, resolveFieldPath } from './field-paths.js';
