//! The error a GMS server answers when it refuses an operation (as opposed to a network
//! failure, after which an operation is retried).
export class GmsRefusal extends Error {
  /** @param {string | number | undefined} code */
  constructor(code) {
    super(`refused (${code ?? 'unknown'})`);
    this.code = code;
  }
}
