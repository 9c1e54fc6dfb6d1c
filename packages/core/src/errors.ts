/** The error catalogue, `SluiceError`, `isRetryable` and the error classes: see `./errors/`. */
export {
  type EitherRetryableCode,
  type ErrorDoc,
  errorCatalogue,
  isSluiceErrorCode,
  type SluiceErrorCode,
} from './errors/error-catalogue.js';
export {
  ClosedError,
  type ContractIssue,
  ContractRegistryError,
  ContractViolationError,
  InvalidOptionError,
  MalformedEnvelopeError,
  MigrationRequiredError,
  PayloadTooLargeError,
  TransportError,
} from './errors/error-classes.js';
export {
  DATABASE_UNAVAILABLE,
  errorCode,
  errorMessage,
  isDatabaseUnavailable,
  isRetryable,
  SluiceError,
  type SluiceErrorOptions,
} from './errors/sluice-error.js';
