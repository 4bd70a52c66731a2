// The Exigo SOAP steps of ../exigo_client.php, run by node-soap (npm
// `soap`) on a client it builds from the served WSDL.
//
// Usage: node exigo_client.js WSDL_URL LOGIN PASSWORD COMPANY
// Prints one JSON object: each step's answer, or its fault as
// {"fault": {"code", "string"}}.
'use strict';

const soap = require('soap');
const { call } = require('./steps');

const NS = 'http://api.exigo.com/';

async function main() {
  const [wsdl, login, password, company] = process.argv.slice(2);
  // node-soap turns an xs:decimal into a JavaScript Number (1.250 becomes
  // 1.25); a client of money keeps the text.
  const options = { customDeserializer: { decimal: (text) => text } };
  const client = async (pw, withHeader) => {
    const c = await soap.createClientAsync(wsdl, options);
    if (withHeader) {
      c.addSoapHeader({ ApiAuthentication: { LoginName: login, Password: pw, Company: company } }, '', 'tns', NS);
    }
    return c;
  };
  const api = await client(password, true);
  const bad = await client('wrong-' + password, true);
  const none = await client(null, false);
  const balances = (c, args) => call(() => c.GetCustomerBalancesAsync(args));
  const extended = (c, args) =>
    call(() => c.UpdateCustomerExtendedAsync({ ExtendedGroupID: 1, CustomerExtendedID: 1, ...args }));

  const out = {};
  out['balances by id'] = await balances(api, { CustomerID: 1 });
  // Generated clients always send the value-typed CustomerID; 0 is "not sent".
  out['balances by key'] = await balances(api, { CustomerID: 0, CustomerKey: '1' });
  out['update fields 1 and 2'] = await extended(api, { CustomerID: 1, Field1: 'one', Field2: '' });
  // node-soap leaves out what is not given: the other fields stay as they are.
  out['update field 3 by key'] = await extended(api, { CustomerID: 0, Field3: 'three', CustomerKey: '1' });
  out['unknown customer'] = await balances(api, { CustomerID: 99 });
  out['both identifiers'] = await balances(api, { CustomerID: 1, CustomerKey: '1' });
  out['neither identifier'] = await extended(api, { CustomerID: 0 });
  out['bad credential'] = await balances(bad, { CustomerID: 1 });
  out['missing header'] = await balances(none, { CustomerID: 1 });
  console.log(JSON.stringify(out, null, 1));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
