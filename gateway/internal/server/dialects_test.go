package server

import (
	"net/http"
	"testing"
)

const (
	exigoAuthFailed = `{"status":"Failure","errors":["Invalid login, company or password."],"transactionKey":"<uuid>"}`
	igsendNoAccount = `{"coreRes":{"status":2,"Message":"Data Validation Failed. Account Number was not available for this client.","MessageID":10009},"tableRes":[]}`
	magentoInvalid  = `{"messages":{"error":[{"code":100,"message":"Provided data is invalid."}]}}`
	magentoNoRows   = `{"messages":{"error":[{"code":102,"message":"No history found with requested parameters."}]}}`
)

func exigoFailure(balances bool, msg string) string {
	result := `"result":{"status":"Failure","errors":["` + msg + `"],"transactionKey":"<uuid>"}`
	if balances {
		return `{"customerBalances":null,` + result + `}`
	}
	return `{` + result + `}`
}

func manexEnvelope(code, msg string, valid bool, response string) string {
	v := "false"
	if valid {
		v = "true"
	}
	return `{"$id":"1","Code":` + code + `,"Message":"` + msg + `","SessionId":null,"IsValidUser":` + v + `,"ResponseObject":` + response + `}`
}

func TestNative(t *testing.T) {
	t.Parallel()
	good := basic("mage", "mage-key")
	run(t, []exchange{
		{name: "wrong secret", target: "/v1/customers/42", header: basic("mage", "wrong"), wantStatus: http.StatusUnauthorized,
			wantBody:   `{"code":16,"message":"invalid credentials","details":[]}`,
			wantHeader: map[string]string{"WWW-Authenticate": `Basic realm="abacus"`}},
		{name: "no credentials", target: "/v1/customers/42", wantStatus: http.StatusUnauthorized,
			wantBody:   `{"code":16,"message":"missing credentials: use HTTP Basic authentication","details":[]}`,
			wantHeader: map[string]string{"WWW-Authenticate": `Basic realm="abacus"`}},
		{name: "bearer scheme", target: "/v1/customers/42", header: map[string]string{"Authorization": "Bearer x"}, wantStatus: http.StatusUnauthorized,
			wantBody: `{"code":16,"message":"invalid credentials","details":[]}`},
		{name: "found", target: "/v1/customers/42", header: good, wantStatus: http.StatusOK},
		{name: "not found maps like grpc-gateway", target: "/v1/customers/43", header: good, wantStatus: http.StatusNotFound,
			wantBody: `{"code":5,"message":"customer not found","details":[]}`},
		{name: "unimplemented", method: http.MethodPost, target: "/v1/customers/42/entries", header: good, body: `{"currency":"USD","kind":"PAYMENT","amount":"1.00"}`,
			wantStatus: http.StatusNotImplemented, wantBody: `{"code":12,"message":"method PostEntry not implemented","details":[]}`},
		{name: "unknown field refused", method: http.MethodPost, target: "/v1/customers/42/entries", header: good, body: `{"bogus":1}`,
			wantStatus: http.StatusBadRequest},
		{name: "path outside every API", target: "/nowhere", wantStatus: http.StatusNotFound,
			wantBody: `{"code":5,"message":"Not Found","details":[]}`},
	})
}

func TestExigo(t *testing.T) {
	t.Parallel()
	good := basic("jdoe@acme", "exigo-pw")
	const usdGbp = `{"customerBalances":[
		{"currencyCode":"GBP","currencyDescription":"Pound Sterling","balance":-3.10},
		{"currencyCode":"USD","currencyDescription":"US Dollar","balance":1400000.00}],
		"result":{"status":"Success","errors":[],"transactionKey":"<uuid>"}}`
	extended := `{"customerID":7,"extendedGroupID":1,"customerExtendedID":2,"field3":"x"}`
	run(t, []exchange{
		{name: "balances wrong password", target: "/3.0/customers/balances?customerID=7", header: basic("jdoe@acme", "nope"),
			wantStatus: http.StatusUnauthorized, wantBody: `{"customerBalances":null,"result":` + exigoAuthFailed + `}`},
		{name: "balances unknown company", target: "/3.0/customers/balances?customerID=7", header: basic("jdoe@other", "exigo-pw"),
			wantStatus: http.StatusUnauthorized, wantBody: `{"customerBalances":null,"result":` + exigoAuthFailed + `}`},
		{name: "login without company", target: "/3.0/customers/balances?customerID=7", header: basic("jdoe", "exigo-pw"),
			wantStatus: http.StatusUnauthorized, wantBody: `{"customerBalances":null,"result":` + exigoAuthFailed + `}`},
		{name: "extended wrong password", method: http.MethodPatch, target: "/3.0/customers/extended", header: basic("jdoe@acme", "nope"), body: extended,
			wantStatus: http.StatusUnauthorized, wantBody: `{"result":` + exigoAuthFailed + `}`},
		{name: "both customerID and customerKey", target: "/3.0/customers/balances?customerID=7&customerKey=K7", header: good,
			wantStatus: http.StatusBadRequest, wantBody: exigoFailure(true, "Send customerID or customerKey, not both.")},
		{name: "neither customerID nor customerKey", target: "/3.0/customers/balances", header: good,
			wantStatus: http.StatusBadRequest, wantBody: exigoFailure(true, "customerID or customerKey is required.")},
		{name: "customerID not a number", target: "/3.0/customers/balances?customerID=abc", header: good,
			wantStatus: http.StatusBadRequest, wantBody: exigoFailure(true, `customerID must be a positive whole number, got \"abc\"`)},
		{name: "customerID twice in two spellings", target: "/3.0/customers/balances?customerID=7&CUSTOMERID=8", header: good,
			wantStatus: http.StatusBadRequest, wantBody: exigoFailure(true, "parameter customerID is given more than once")},
		{name: "balances by id, any case", target: "/3.0/Customers/Balances?CUSTOMERID=7", header: good, wantStatus: http.StatusOK, wantBody: usdGbp},
		{name: "balances by key", target: "/3.0/customers/balances?customerkey=K7", header: good, wantStatus: http.StatusOK, wantBody: usdGbp},
		{name: "no balances", target: "/3.0/customers/balances?customerID=8", header: good, wantStatus: http.StatusOK,
			wantBody: `{"customerBalances":[],"result":{"status":"Success","errors":[],"transactionKey":"<uuid>"}}`},
		{name: "unknown customer", target: "/3.0/customers/balances?customerID=99", header: good,
			wantStatus: http.StatusNotFound, wantBody: exigoFailure(true, "No customer has customerID 99.")},
		{name: "unknown customer key", target: "/3.0/customers/balances?customerKey=nope", header: good,
			wantStatus: http.StatusNotFound, wantBody: exigoFailure(true, `No customer has customerKey \"nope\".`)},
		{name: "ledger down", target: "/3.0/customers/balances?customerID=9", header: good,
			wantStatus: http.StatusServiceUnavailable, wantBody: exigoFailure(true, "Service temporarily unavailable. Try again later.")},
		{name: "internal error is not shown", target: "/3.0/customers/balances?customerID=10", header: good,
			wantStatus: http.StatusInternalServerError, wantBody: exigoFailure(true, "An internal error occurred.")},
		{name: "extended not implemented yet", method: http.MethodPatch, target: "/3.0/customers/extended", header: good, body: extended,
			wantStatus: http.StatusNotImplemented, wantBody: exigoFailure(false, "Not implemented yet.")},
		{name: "extended keys any case", method: http.MethodPatch, target: "/3.0/customers/extended", header: good,
			body:       `{"CustomerKey":"K7","EXTENDEDGROUPID":"1","customerextendedid":2,"Field30":"z","field1":null}`,
			wantStatus: http.StatusNotImplemented, wantBody: exigoFailure(false, "Not implemented yet.")},
		{name: "extended both ids", method: http.MethodPatch, target: "/3.0/customers/extended", header: good,
			body:       `{"customerID":7,"customerKey":"K7","extendedGroupID":1,"customerExtendedID":2}`,
			wantStatus: http.StatusBadRequest, wantBody: exigoFailure(false, "Send customerID or customerKey, not both.")},
		{name: "extended neither id", method: http.MethodPatch, target: "/3.0/customers/extended", header: good,
			body:       `{"extendedGroupID":1,"customerExtendedID":2}`,
			wantStatus: http.StatusBadRequest, wantBody: exigoFailure(false, "customerID or customerKey is required.")},
		{name: "extended group missing", method: http.MethodPatch, target: "/3.0/customers/extended", header: good,
			body:       `{"customerID":7,"customerExtendedID":2}`,
			wantStatus: http.StatusBadRequest, wantBody: exigoFailure(false, "extendedGroupID is required.")},
		{name: "extended field not a string", method: http.MethodPatch, target: "/3.0/customers/extended", header: good,
			body:       `{"customerID":7,"extendedGroupID":1,"customerExtendedID":2,"field2":5}`,
			wantStatus: http.StatusBadRequest, wantBody: exigoFailure(false, "field2 must be a string.")},
		{name: "extended body not JSON", method: http.MethodPatch, target: "/3.0/customers/extended", header: good, body: `{`,
			wantStatus: http.StatusBadRequest, wantBody: exigoFailure(false, "The request body must be a JSON object.")},
		{name: "wrong method", method: http.MethodPost, target: "/3.0/customers/balances", header: good,
			wantStatus: http.StatusMethodNotAllowed, wantHeader: map[string]string{"Allow": "GET"},
			wantBody: exigoFailure(true, "The requested resource does not support http method 'POST'.")},
		{name: "unknown method", target: "/3.0/customers/nothing", header: good,
			wantStatus: http.StatusNotFound, wantBody: exigoFailure(false, "No resource matches the request URI.")},
	})
}

func TestIgsend(t *testing.T) {
	t.Parallel()
	good := basic("pub-live", "priv-live")
	run(t, []exchange{
		{name: "wrong private key", target: "/services/clientbalance/?ClientID=7", header: basic("pub-live", "nope"), wantStatus: http.StatusUnauthorized,
			wantBody: `{"coreRes":{"status":2,"Message":"Authentication failed: invalid public or private key.","MessageID":10001},"tableRes":[]}`},
		{name: "no credentials", target: "/services/clientbalance/?ClientID=7", wantStatus: http.StatusUnauthorized,
			wantBody: `{"coreRes":{"status":2,"Message":"Authentication failed: invalid public or private key.","MessageID":10001},"tableRes":[]}`},
		{name: "ClientID missing", target: "/services/clientbalance/", header: good, wantStatus: http.StatusOK, wantBody: igsendNoAccount},
		{name: "ClientID empty", target: "/services/clientbalance/?ClientID=", header: good, wantStatus: http.StatusOK, wantBody: igsendNoAccount},
		{name: "ClientID 0", target: "/services/clientbalance/?ClientID=0", header: good, wantStatus: http.StatusOK, wantBody: igsendNoAccount},
		{name: "ClientID abc", target: "/services/clientbalance/?ClientID=abc", header: good, wantStatus: http.StatusOK, wantBody: igsendNoAccount},
		{name: "ClientID negative", target: "/services/clientbalance/?ClientID=-5", header: good, wantStatus: http.StatusOK, wantBody: igsendNoAccount},
		{name: "ClientID too large", target: "/services/clientbalance/?ClientID=99999999999", header: good, wantStatus: http.StatusOK, wantBody: igsendNoAccount},
		{name: "unknown client", target: "/services/clientbalance/?ClientID=99", header: good, wantStatus: http.StatusOK, wantBody: igsendNoAccount},
		{name: "client without balances", target: "/services/clientbalance/?ClientID=8", header: good, wantStatus: http.StatusOK, wantBody: igsendNoAccount},
		{name: "balances, no slash, any case", target: "/services/clientbalance?clientid=7", header: good, wantStatus: http.StatusOK,
			wantBody: `{"coreRes":{"status":1,"Message":"Client Balance successfully retrieved.","MessageID":10010},"tableRes":[
				{"ClientID":7,"AccountBalance":"-3.10","Status":"success","Balance Currency":"GBP","Balance State":"OVERDRAWN"},
				{"ClientID":7,"AccountBalance":"1400000.00","Status":"success","Balance Currency":"USD","Balance State":"IN_CREDIT"}]}`},
		{name: "ledger down", target: "/services/clientbalance/?ClientID=9", header: good, wantStatus: http.StatusServiceUnavailable,
			wantBody: `{"coreRes":{"status":2,"Message":"Service temporarily unavailable. Try again later.","MessageID":10000},"tableRes":[]}`},
		{name: "wrong method", method: http.MethodPost, target: "/services/clientbalance/", header: good, wantStatus: http.StatusMethodNotAllowed,
			wantBody: `{"coreRes":{"status":2,"Message":"Method not allowed.","MessageID":10000},"tableRes":[]}`},
	})
}

func TestManex(t *testing.T) {
	t.Parallel()
	const acmeRecord = `{"$id":"2","LinkAddList":null,"CUSTNO":"0000000010","CUSTNAME":"Acme","PHONE":"","FAX":"","BLINKADD":"","SLINKADD":"",
		"TERRITORY":"","TERMS":"","CREDLIMIT":100.50,"PROFILE":"","CUSTNOTE":"","ACCTSTATUS":"","DIVISION":"","SREPS":"","CREDITOK":"",
		"RESL_NO":"","AR_CALDATE":null,"AR_CALTIME":"","AR_CALBY":"","AR_CALNOTE":"","AR_HIGHBAL":0,"CREDITNOTE":"","ACCT_DATE":null,
		"SAVEINIT":"","OUT_MARGIN":0,"TL_MARGIN":0,"MAT_MARGIN":0,"LAB_MARGIN":0,"MIN_ORDAMT":0,"SCRAP_FACT":0,"COMMITEM":0,"CUSTSPEC":0,
		"LABOR":false,"MATERIAL":false,"SPLIT1":0,"SPLIT2":0,"SPLITAMT":0,"SPLITPERC":0,"TOOLING":false,"SIC_CODE":"","SIC_DESC":"",
		"DELIVTIME":"","STATUS":"Active","SERIFLAG":false,"OVERHEAD":0,"IS_EDITED":"","SALEDSCTID":"","CUSTPFX":"","ACTTAXABLE":false,
		"INACTDT":null,"INACTINIT":"","modifiedDate":null,"UserId":null}`
	run(t, []exchange{
		{name: "invalid key", target: "/API/Customer/Get/BADKEY0000?CustNumOrName=Acme", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Invalid API Key.", false, "null")},
		{name: "key not UTF-8", target: "/API/Customer/Get/K12345678%FF?CustNumOrName=Acme", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Invalid API Key.", false, "null")},
		{name: "get with an empty CustNumOrName", target: "/API/Customer/Get/K123456789?CustNumOrName=", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Customer get failed.CustNumOrName is required.", true, "null")},
		{name: "get, a ten-digit name", target: "/API/Customer/Get/K123456789?CustNumOrName=0000000099", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Customer does not exists.", true, "null")},
		{name: "add with a parameter in two spellings", target: "/API/Customer/Add/K123456789?CustName=New&Status=Active&STATUS=Quote", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Customer add failed.Status is given more than once.", true, "null")},
		{name: "unknown controller", target: "/api/CustomerAdd/123456789", wantStatus: http.StatusNotFound,
			wantBody: `{"$id":"1","Message":"No HTTP resource was found that matches the request URI 'http://example.com/api/CustomerAdd/123456789'.","MessageDetail":"No type was found that matches the controller named 'CustomerAdd'."}`},
		{name: "unknown action", target: "/API/Customer/Delete/K123456789?x=1", wantStatus: http.StatusNotFound,
			wantBody: `{"$id":"1","Message":"No HTTP resource was found that matches the request URI 'http://example.com/API/Customer/Delete/K123456789?x=1'.","MessageDetail":"No action was found on the controller 'Customer' that matches the request."}`},
		{name: "get without its parameter", target: "/api/Customer/Get/123456789?CustName=CustomerName", wantStatus: http.StatusNotFound,
			wantBody: `{"$id":"1","Message":"No HTTP resource was found that matches the request URI 'http://example.com/api/Customer/Get/123456789?CustName=CustomerName'.","MessageDetail":"No action was found on the controller 'Customer' that matches the request."}`},
		{name: "get by number, any case", target: "/api/customer/get/K123456789?custnumorname=0000000010", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("200", "Customer details:", true, acmeRecord)},
		{name: "get by name with POST body", method: http.MethodPost, target: "/API/Customer/Get/K123456789", body: `{"CUSTNUMORNAME":"Acme"}`,
			wantStatus: http.StatusOK, wantBody: manexEnvelope("200", "Customer details:", true, acmeRecord)},
		{name: "get unknown customer", target: "/API/Customer/Get/K123456789?CustNumOrName=Nobody", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Customer does not exists.", true, "null")},
		{name: "get ambiguous name", target: "/API/Customer/Get/K123456789?CustNumOrName=Twin", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Customer get failed.CustNumOrName matches more than one customer; use the customer number (Custno).", true, "null")},
		{name: "add not implemented yet", method: http.MethodPost, target: "/API/Customer/Add/K123456789", body: `{"Custname":"New","Status":"Active"}`,
			wantStatus: http.StatusNotImplemented, wantBody: manexEnvelope("501", "Not implemented yet.", true, "null")},
		{name: "add missing status", target: "/API/Customer/Add/K123456789?CustName=New", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Customer add failed.Status is required.", true, "null")},
		{name: "add status must be camel-cased", target: "/API/Customer/Add/K123456789?CustName=New&Status=ACTIVE", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Customer add failed.Status must be one of Active, Inactive, Quote.", true, "null")},
		{name: "add negative credit limit", target: "/API/Customer/Add/K123456789?CustName=New&Status=Active&Credlimit=-1", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Customer add failed.Credlimit must be a number greater than or equal to 0.", true, "null")},
		{name: "add body not JSON", method: http.MethodPost, target: "/API/Customer/Add/K123456789", body: `{`, wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Customer add failed.Object reference not set to an instance of an object.", true, "null")},
		{name: "edit without custno", target: "/API/Customer/Edit/K123456789?CustName=X", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Customer edit failed.Customer Number or Customer Name is Required", true, "null")},
		{name: "edit unknown customer", target: "/API/Customer/Edit/K123456789?CUSTNO=0000000099&CUSTNAME=X", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("403", "Customer does not exists.", true, "null")},
		{name: "edit not implemented yet", target: "/API/Customer/Edit/K123456789?CUSTNO=0000000010&STATUS=INACTIVE&territory=NEW%20ENGLAND", wantStatus: http.StatusNotImplemented,
			wantBody: manexEnvelope("501", "Not implemented yet.", true, "null")},
		{name: "edit with nothing to change", target: "/API/Customer/Edit/K123456789?CUSTNO=0000000010", wantStatus: http.StatusOK,
			wantBody: manexEnvelope("200", "Customer edited successfully.", true, "null")},
		{name: "wrong method", method: http.MethodPut, target: "/API/Customer/Get/K123456789?CustNumOrName=Acme", wantStatus: http.StatusMethodNotAllowed,
			wantBody: `{"$id":"1","Message":"The requested resource does not support http method 'PUT'."}`},
	})
}

func TestMagento(t *testing.T) {
	t.Parallel()
	good := basic("mage", "mage-key")
	run(t, []exchange{
		{name: "wrong key", target: "/api/rest/customers/4/storecredit/history", header: basic("mage", "nope"), wantStatus: http.StatusUnauthorized,
			wantBody: `{"messages":{"error":[{"code":401,"message":"Authentication failed."}]}}`},
		{name: "other dialect's credential", target: "/api/rest/customers/4/storecredit/history", header: basic("pub-live", "priv-live"),
			wantStatus: http.StatusUnauthorized, wantBody: `{"messages":{"error":[{"code":401,"message":"Authentication failed."}]}}`},
		{name: "customer id not a number", target: "/api/rest/customers/abc/storecredit/history", header: good,
			wantStatus: http.StatusBadRequest, wantBody: magentoInvalid},
		{name: "customer id zero", target: "/api/rest/customers/0/storecredit/history", header: good,
			wantStatus: http.StatusBadRequest, wantBody: magentoInvalid},
		{name: "website id not a number", target: "/api/rest/customers/4/storecredit/history?website_id=x", header: good,
			wantStatus: http.StatusBadRequest, wantBody: magentoInvalid},
		{name: "no rows", target: "/api/rest/customers/5/storecredit/history", header: good,
			wantStatus: http.StatusNotFound, wantBody: magentoNoRows},
		{name: "unknown customer", target: "/api/rest/customers/99/storecredit/history", header: good,
			wantStatus: http.StatusNotFound, wantBody: magentoNoRows},
		{name: "not implemented yet", target: "/api/rest/customers/6/storecredit/history", header: good,
			wantStatus: http.StatusNotImplemented, wantBody: `{"messages":{"error":[{"code":501,"message":"Not implemented yet."}]}}`},
		{name: "history", target: "/api/rest/customers/4/storecredit/history?WEBSITE_ID=2", header: good, wantStatus: http.StatusOK,
			wantBody: `[
			{"history_id":"2","balance_id":"1","updated_at":"2012-04-06 13:50:33","action":"1","balance_amount":"300.0000","balance_delta":"-200.0000",
			 "additional_info":"By admin: john@example.com. (update balance)","is_customer_notified":"0","customer_id":"4","website_id":"2","base_currency_code":"USD"},
			{"history_id":"1","balance_id":"1","updated_at":"2012-04-06 13:44:58","action":"2","balance_amount":"500.0000","balance_delta":"500.0000",
			 "additional_info":"By admin: john@example.com. (new balance)","is_customer_notified":"1","customer_id":"4","website_id":"2","base_currency_code":"USD"}]`},
		{name: "unknown route", target: "/api/rest/products", header: good, wantStatus: http.StatusNotFound,
			wantBody: `{"messages":{"error":[{"code":404,"message":"Request does not match any route."}]}}`},
	})
}
