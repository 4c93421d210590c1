import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces travel in an encoded-attributes payload, which the encryption codec encrypts like
 * every other payload: a Graph error can quote a directory object's name, and a stack trace a storage key, and history
 * is readable by whoever can read the namespace. Clients and workers decode them as usual; the Web UI shows them once
 * it is pointed at a codec server. Loaded by path, because workflow code (in its sandbox) uses it too.
 * https://docs.temporal.io/production-deployment/data-encryption ("Failure Converter")
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
