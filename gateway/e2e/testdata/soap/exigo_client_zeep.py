"""The Exigo SOAP steps of exigo_client.php, run by zeep (python3-zeep).

Usage: /usr/bin/python3 exigo_client_zeep.py WSDL_URL LOGIN PASSWORD COMPANY
Prints one JSON object: each step's answer, or its fault as
{"fault": {"code", "string"}}.
"""
import datetime
import json
import sys

from zeep import Client
from zeep.exceptions import Fault
from zeep.helpers import serialize_object

wsdl, login, password, company = sys.argv[1:5]
client = Client(wsdl)
auth = client.get_element("{http://api.exigo.com/}ApiAuthentication")


def header(pw):
    return [auth(LoginName=login, Password=pw, Company=company,
                 RequestTimeUtc=datetime.datetime(1, 1, 1))]


def step(op, headers, **kw):
    try:
        res = getattr(client.service, op)(_soapheaders=headers, **kw)
        return {"ok": json.loads(json.dumps(serialize_object(res), default=str))}
    except Fault as f:
        return {"fault": {"code": f.code, "string": f.message}}


ok = header(password)
out = {
    "balances by id": step("GetCustomerBalances", ok, CustomerID=1),
    "balances by key": step("GetCustomerBalances", ok, CustomerID=0, CustomerKey="1"),
    "update fields 1 and 2": step("UpdateCustomerExtended", ok, CustomerID=1, ExtendedGroupID=1,
                                  CustomerExtendedID=1, Field1="one", Field2=""),
    "update field 3 by key": step("UpdateCustomerExtended", ok, CustomerID=0, ExtendedGroupID=1,
                                  CustomerExtendedID=1, Field3="three", CustomerKey="1"),
    "unknown customer": step("GetCustomerBalances", ok, CustomerID=99),
    "both identifiers": step("GetCustomerBalances", ok, CustomerID=1, CustomerKey="1"),
    "neither identifier": step("UpdateCustomerExtended", ok, CustomerID=0, ExtendedGroupID=1,
                               CustomerExtendedID=1),
    "bad credential": step("GetCustomerBalances", header("wrong-" + password), CustomerID=1),
    "missing header": step("GetCustomerBalances", [], CustomerID=1),
}
print(json.dumps(out, indent=1))
