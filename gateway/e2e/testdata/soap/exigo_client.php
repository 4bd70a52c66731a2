<?php
// An Exigo SOAP client as the seeds write one (000_…, 002_…), adapted to run:
// a SoapClient from the served WSDL, the ApiAuthentication SoapHeader, and
// GetCustomerBalances / UpdateCustomerExtended. It prints one JSON object:
// each step's answer, or its fault as {"fault": {"code", "string"}}.
// Usage: php exigo_client.php WSDL_URL LOGIN PASSWORD COMPANY
[$_, $wsdl, $login, $password, $company] = $argv;
$ns = "http://api.exigo.com/";

function client(string $wsdl, ?array $credential): SoapClient
{
    global $ns;
    $api = new SoapClient($wsdl, ["cache_wsdl" => WSDL_CACHE_NONE, "exceptions" => true, "trace" => 1]);
    if ($credential !== null) {
        $auth = array();
        $auth["LoginName"] = new SoapVar($credential[0], XSD_STRING, null, null, null, $ns);
        $auth["Password"] = new SoapVar($credential[1], XSD_STRING, null, null, null, $ns);
        $auth["Company"] = new SoapVar($credential[2], XSD_STRING, null, null, null, $ns);
        $headerBody = new SoapVar($auth, SOAP_ENC_OBJECT);
        $header = new SoapHeader($ns, 'ApiAuthentication', $headerBody);
        $api->__setSoapHeaders(array($header));
    }
    return $api;
}

function step(callable $f)
{
    try {
        return ["ok" => $f()];
    } catch (SoapFault $ex) {
        return ["fault" => ["code" => $ex->faultcode, "string" => $ex->getMessage()]];
    }
}

$api = client($wsdl, [$login, $password, $company]);
$out = [];
$out["balances by id"] = step(fn() => $api->GetCustomerBalances(["CustomerID" => 1]));
// Generated clients always send the value-typed CustomerID; 0 is "not sent".
$out["balances by key"] = step(fn() => $api->GetCustomerBalances(["CustomerID" => 0, "CustomerKey" => "1"]));
$out["update fields 1 and 2"] = step(fn() => $api->UpdateCustomerExtended([
    "CustomerID" => 1, "ExtendedGroupID" => 1, "CustomerExtendedID" => 1, "Field1" => "one", "Field2" => "",
]));
// PHP sends every unset nillable field as xsi:nil: they stay as they are.
$out["update field 3 by key"] = step(fn() => $api->UpdateCustomerExtended([
    "CustomerID" => 0, "ExtendedGroupID" => 1, "CustomerExtendedID" => 1, "Field3" => "three", "CustomerKey" => "1",
]));
$out["unknown customer"] = step(fn() => $api->GetCustomerBalances(["CustomerID" => 99]));
$out["both identifiers"] = step(fn() => $api->GetCustomerBalances(["CustomerID" => 1, "CustomerKey" => "1"]));
$out["neither identifier"] = step(fn() => $api->UpdateCustomerExtended([
    "CustomerID" => 0, "ExtendedGroupID" => 1, "CustomerExtendedID" => 1,
]));
$bad = client($wsdl, [$login, "wrong-" . $password, $company]);
$out["bad credential"] = step(fn() => $bad->GetCustomerBalances(["CustomerID" => 1]));
$none = client($wsdl, null);
$out["missing header"] = step(fn() => $none->GetCustomerBalances(["CustomerID" => 1]));
// A malformed envelope, sent raw through the client's own transport.
$location = $api->__getFunctions() ? parse_url($wsdl, PHP_URL_SCHEME) . "://" . parse_url($wsdl, PHP_URL_HOST) . ":" . parse_url($wsdl, PHP_URL_PORT) . "/3.0/ExigoApi.asmx" : "";
$out["malformed envelope"] = ["raw" => $api->__doRequest("<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>", $location, "https://api.exigo.com/GetCustomerBalances", SOAP_1_1)];
echo json_encode($out, JSON_PRETTY_PRINT), "\n";
