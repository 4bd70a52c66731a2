// Magento SOAP v2 in its WS-I compliant form, driven by node-soap (npm
// `soap`) on a client it builds from the served WSDL: login,
// enterpriseCustomerbalanceHistory and endSession, and the faults around
// them.
//
// Usage: node magento_wsi.js WSDL_URL API_USER API_KEY CUSTOMER_ID
// Prints one JSON object: each step's answer, or its fault as
// {"fault": {"code", "string"}}.
'use strict';

const soap = require('soap');
const { call } = require('./steps');

async function main() {
  const [wsdl, apiUser, apiKey, customerId] = process.argv.slice(2);
  const api = await soap.createClientAsync(wsdl);
  const history = (sessionId, args) =>
    call(() => api.enterpriseCustomerbalanceHistoryAsync({ sessionId, ...args }));

  const out = {};
  out['login'] = await call(() => api.loginAsync({ username: apiUser, apiKey }));
  const session = out['login'].ok && out['login'].ok.result;
  out['history'] = await history(session, { customerId });
  out['history of website 2'] = await history(session, { customerId, websiteId: '2' });
  out['history of website 3'] = await history(session, { customerId, websiteId: '3' });
  out['invalid customer'] = await history(session, { customerId: 'abc' });
  out['unknown customer'] = await history(session, { customerId: '999999' });
  out['end session'] = await call(() => api.endSessionAsync({ sessionId: session }));
  out['history after end'] = await history(session, { customerId });
  out['bad login'] = await call(() => api.loginAsync({ username: apiUser, apiKey: 'wrong-' + apiKey }));
  console.log(JSON.stringify(out, null, 1));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
