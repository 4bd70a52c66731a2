// What the node-soap scripts share: one call as a step of their JSON
// output.
'use strict';

// call runs one operation: its answer as {"ok": result}, a SOAP fault as
// {"fault": {"code", "string"}}. Anything else (no answer, an answer that is
// no SOAP) is thrown, so the script fails and its test sees why.
async function call(f) {
  try {
    const [result] = await f();
    return { ok: result };
  } catch (err) {
    const fault = err && err.root && err.root.Envelope && err.root.Envelope.Body && err.root.Envelope.Body.Fault;
    if (!fault) {
      throw err;
    }
    return { fault: { code: fault.faultcode, string: fault.faultstring } };
  }
}

module.exports = { call };
