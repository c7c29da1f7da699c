export {
  baseConfig,
  ConfigError,
  defineConfig,
  loadConfig,
  LOG_LEVELS,
  redactCredentials,
  type ConfigOf,
  type ConfigProblem,
  type EnvVarSpec,
  type EnvVarType,
} from './lib/config.js';
export {
  DownstreamError,
  DownstreamUnavailableError,
  HttpError,
  toErrorBody,
  type ErrorBody,
  type FieldError,
} from './lib/errors.js';
export { DEFAULT_CHECK_TIMEOUT_MS, type CheckResult, type ReadinessCheck, type ReadinessReport } from './lib/health.js';
export {
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  type HttpResponse,
  type QueryValue,
  type RequestOptions,
} from './lib/http-client.js';
export { HTTP_DURATION_METRIC } from './lib/metrics.js';
export {
  currentRequestId,
  getRequestContext,
  REQUEST_ID_HEADER,
  runWithRequestContext,
  type RequestContext,
} from './lib/request-context.js';
export {
  createService,
  serviceOptionsFromConfig,
  type RateLimitSettings,
  type Service,
  type ServiceOptions,
} from './lib/service.js';
export { ShutdownTimeoutError } from './lib/shutdown.js';
